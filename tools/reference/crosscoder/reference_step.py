"""Reference crosscoder training steps (BatchTopK and L1), written from the definitions with dense torch autograd.

Independent of the TypeScript sparse backward: activations are dense [batch, d_sae] tensors, the decoders dense
matmuls, gradients come from autograd, the optimizer is torch.optim.Adam. The definitions
(packages/sae/src/crosscoder/README section "Definitions"; Minder, Dumas et al. 2025; Bussmann et al. 2024):

  X = [x_base | x_chat] * input_scale                      [batch, 2 d]  (one shared scale for both models)
  z = X @ W_enc.T + b_enc,  f = relu(z)                    [batch, d_sae]  (no decoder-bias subtraction)
  n_j = |W_dec[j, base]| + |W_dec[j, chat]|                (combined decoder norm, detached in BatchTopK)
  BatchTopK: keep the batch*k largest scores f * n over the whole batch (positive ones); a = f * mask
  X_hat = a @ W_dec + b_dec,  e = X - X_hat
  FVU = sum(e^2) / sum((X - mean(X))^2)
  AuxK = s * sum((e_hat - e.detach())^2) / sum((X - mean(X))^2), e_hat = a_aux @ W_dec, a_aux = f on each row's
         top-kAux scores among dead latents, s = min(#dead / kAux, 1)
  loss (BatchTopK) = FVU + auxk_coef * AuxK;   threshold <- decay * threshold + (1 - decay) * min selected score
  loss (L1)        = mean over rows of [ sum(e^2) + l1_coef * sum_j f_j * n_j ]   (n with gradient)
  Adam on W_enc, b_enc, W_dec, b_dec (no decoder normalisation: the decoder norms are the diffing signal).

Writes a small JSON fixture (float32 values) with the initial weights, batches, per-step metrics and final weights
for both kinds. Fails loudly when a selection boundary in the data is closer than MARGIN (the fixture must have a
top-k margin so rounding differences cannot change which latents are selected).

Run: /usr/bin/python3 tools/reference/crosscoder/reference_step.py packages/sae/test/fixtures/crosscoder/reference-steps.json
"""
import json
import sys

import numpy as np
import torch

torch.set_num_threads(1)
torch.set_default_dtype(torch.float32)
MARGIN = 1e-3  # relative gap required at every selection boundary

cfg = dict(dIn=6, dSae=40, k=3, kAux=6, auxkCoef=1 / 32, deadAfterTokens=40, lr=3e-3, adamBeta1=0.9,
           adamBeta2=0.999, adamEps=6.25e-10, lrWarmupSteps=3, lrDecaySteps=4, lrEndFraction=0.1, maxSteps=10,
           thresholdDecay=0.9, l1Coef=0.05)
B, STEPS = 16, 10
d, S, k = cfg["dIn"], cfg["dSae"], cfg["k"]


def lr_at(t):
    f = 1.0
    if cfg["lrWarmupSteps"] > 0 and t <= cfg["lrWarmupSteps"]:
        f = t / cfg["lrWarmupSteps"]
    start = cfg["maxSteps"] - cfg["lrDecaySteps"]
    if cfg["lrDecaySteps"] > 0 and t > start:
        frac = min(1.0, (t - start) / cfg["lrDecaySteps"])
        f = min(f, 1 - frac * (1 - cfg["lrEndFraction"]))
    return cfg["lr"] * f


def rel_gap(a, b):
    return abs(a - b) / max(abs(a), abs(b), 1e-12)


def make_data(seed):
    rng = np.random.RandomState(seed)
    offset = rng.randn(d).astype(np.float32)
    mix = (np.eye(d) + 0.3 * rng.randn(d, d)).astype(np.float32)  # chat = a changed copy of base
    base = [(rng.randn(B, d) * 1.5 + offset).astype(np.float32) for _ in range(STEPS)]
    chat = [(b @ mix + 0.5 * rng.randn(B, d)).astype(np.float32) for b in base]
    x0 = np.concatenate([base[0], chat[0]], 1).astype(np.float64)
    scale = float(np.float32(1 / np.sqrt((x0 ** 2).sum(1).mean())))
    w_dec = rng.randn(S, 2, d).astype(np.float32)
    w_dec /= np.linalg.norm(w_dec, axis=2, keepdims=True)
    w_dec *= rng.uniform(0.2, 1.0, size=(S, 2, 1)).astype(np.float32)  # unequal norms: scoring by norm matters
    w_enc = (w_dec + 0.1 * rng.randn(S, 2, d)).astype(np.float32)
    b_enc = (rng.randn(S) * 0.1).astype(np.float32)
    b_dec = (rng.randn(2, d) * 0.05).astype(np.float32)
    init = dict(wEnc=w_enc.reshape(S, 2 * d), bEnc=b_enc, wDec=w_dec.reshape(S, 2 * d), bDec=b_dec.reshape(2 * d))
    return base, chat, scale, init


def dec_norms(W_dec):
    return W_dec[:, :d].norm(dim=1) + W_dec[:, d:].norm(dim=1)


def run(kind, base, chat, scale, init):
    P = {n: torch.tensor(v, requires_grad=True) for n, v in init.items()}
    opt = torch.optim.Adam([P["wEnc"], P["bEnc"], P["wDec"], P["bDec"]], lr=cfg["lr"],
                           betas=(cfg["adamBeta1"], cfg["adamBeta2"]), eps=cfg["adamEps"])
    since_fired = torch.zeros(S, dtype=torch.float64)
    threshold = None
    metrics = []
    k_aux_cfg = min(cfg["kAux"], S)
    for step in range(1, STEPS + 1):
        X = torch.tensor(np.concatenate([base[step - 1], chat[step - 1]], 1)) * scale
        tv = ((X - X.mean(0)) ** 2).sum()
        z = X @ P["wEnc"].T + P["bEnc"]
        f = torch.relu(z)
        if kind == "batchtopk":
            n = dec_norms(P["wDec"]).detach()
            score = (f * n).detach()
            flat = score.flatten()
            srt = flat.sort(descending=True).values
            M = B * k
            if srt[M - 1] > 0 and rel_gap(float(srt[M - 1]), float(srt[M])) < MARGIN:
                raise SystemExit(f"{kind} step {step}: batch top-k boundary {srt[M - 1]} vs {srt[M]} has no margin")
            vals, idx = flat.topk(M)
            mask = torch.zeros(B * S)
            mask[idx[vals > 0]] = 1
            a = f * mask.view(B, S)
            min_sel = float(vals[vals > 0].min())
            threshold = min_sel if threshold is None else cfg["thresholdDecay"] * threshold + (1 - cfg["thresholdDecay"]) * min_sel
        else:
            if float(z.abs().min()) < 1e-4:
                raise SystemExit(f"{kind} step {step}: a pre-activation is within 1e-4 of the ReLU kink")
            a = f
        x_hat = a @ P["wDec"] + P["bDec"]
        e = X - x_hat
        fvu = (e ** 2).sum() / tv
        num_dead = 0
        auxk = torch.zeros(())
        if kind == "batchtopk":
            dead = since_fired > cfg["deadAfterTokens"]
            num_dead = int(dead.sum())
            if num_dead > 0:
                k_aux = min(k_aux_cfg, num_dead)
                s = min(num_dead / k_aux_cfg, 1.0)
                sd = torch.where(dead[None, :], score, torch.tensor(-1.0))
                sd_sorted = sd.sort(dim=1, descending=True).values
                for r in range(B):
                    lo, hi = float(sd_sorted[r, k_aux - 1]), float(sd_sorted[r, k_aux]) if k_aux < num_dead else -1.0
                    if lo > 0 and rel_gap(lo, hi) < MARGIN:
                        raise SystemExit(f"{kind} step {step}: AuxK boundary of row {r} has no margin")
                _, aidx = sd.topk(k_aux, dim=1)
                amask = torch.zeros(B, S).scatter(1, aidx, 1.0)
                e_hat = (f * amask) @ P["wDec"]
                auxk = s * ((e_hat - e.detach()) ** 2).sum() / tv
            loss = fvu + cfg["auxkCoef"] * auxk
        else:
            n = dec_norms(P["wDec"])
            loss = ((e ** 2).sum() + cfg["l1Coef"] * (f * n).sum()) / B
        opt.zero_grad()
        loss.backward()
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        opt.step()
        with torch.no_grad():
            since_fired += B
            since_fired[(a > 0).any(0)] = 0
        m = dict(step=step, loss=float(loss), fvu=float(fvu), mse=float((e.detach() ** 2).mean()),
                 l0=float((a > 0).sum(1).float().mean()), lr=lr_at(step))
        if kind == "batchtopk":
            m.update(auxkLoss=float(auxk), numDead=num_dead, threshold=threshold)
        metrics.append(m)
    final = {n: flat32(p) for n, p in P.items()}
    return dict(metrics=metrics, final=final, finalSinceFired=[float(v) for v in since_fired])


def flat32(t):
    a = t.detach().numpy() if torch.is_tensor(t) else t
    return [float(v) for v in np.asarray(a, dtype=np.float32).ravel()]


for seed in range(1, 200):
    base, chat, scale, init = make_data(seed)
    try:
        btk = run("batchtopk", base, chat, scale, init)
        l1 = run("l1", base, chat, scale, init)
    except SystemExit as err:
        print(f"seed {seed}: {err}")
        continue
    if max(m["numDead"] for m in btk["metrics"]) == 0:
        print(f"seed {seed}: no dead latents, AuxK untested")
        continue
    break
else:
    raise SystemExit("no seed gave a fixture with margins")

out = dict(
    provenance="tools/reference/crosscoder/reference_step.py, torch %s, numpy seed %d" % (torch.__version__, seed),
    config=cfg, batchSize=B, inputScale=scale,
    base=[flat32(b) for b in base], chat=[flat32(c) for c in chat],
    initial={n: flat32(v) for n, v in init.items()},
    batchtopk=btk, l1=l1,
)
with open(sys.argv[1], "w") as fh:
    json.dump(out, fh, separators=(",", ":"))
print("seed", seed, "dead per step:", [m["numDead"] for m in btk["metrics"]],
      "l0 per step:", [m["l0"] for m in btk["metrics"]])
