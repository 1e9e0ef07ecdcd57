"""Reference TopK SAE training steps, written from the definition with dense torch autograd.

Independent of the TypeScript sparse backward: activations are scattered densely, the decoder is a
dense matmul, gradients come from autograd, the optimizer is torch.optim.Adam. Same loss as
packages/sae/src/train/sparse-step.ts:
  FVU  = sum(e^2) / sum((x - mean(x))^2),   e = x - (relu(topk(z)) @ W_dec + b_dec)
  AuxK = s * sum((ehat - e.detach())^2) / sum((x - mean(x))^2),  ehat = relu(topk_dead(z)) @ W_dec
  loss = FVU + auxk_coef * AuxK;  decoder-row-parallel gradient removed; Adam; rows renormalised.
Writes initial weights, batches, per-step metrics and final weights as JSON (float32 values).

Run: /usr/bin/python3 tools/reference/sae/topk_step_reference.py OUT.json
"""
import json
import sys

import numpy as np
import torch

torch.set_num_threads(1)
rng = np.random.RandomState(1234)

cfg = dict(dIn=16, dSae=96, k=3, kAux=8, auxkCoef=1 / 32, deadAfterTokens=60, lr=3e-3,
           adamBeta1=0.9, adamBeta2=0.999, adamEps=6.25e-10, lrWarmupSteps=3, lrDecaySteps=4,
           lrEndFraction=0.1, maxSteps=10)
B, STEPS = 32, 10
d, S, k = cfg["dIn"], cfg["dSae"], cfg["k"]

offset = rng.randn(d).astype(np.float32) * 2
batches = [(rng.randn(B, d) * 1.5 + offset).astype(np.float32) for _ in range(STEPS)]
first = batches[0].astype(np.float64)
input_scale = float(np.float32(1 / np.sqrt((first ** 2).sum(1).mean())))

w_dec0 = rng.randn(S, d).astype(np.float32)
w_dec0 /= np.linalg.norm(w_dec0, axis=1, keepdims=True)
w_enc0 = w_dec0.copy()
b_enc0 = (rng.randn(S) * 0.1).astype(np.float32)
b_dec0 = (offset * input_scale + rng.randn(d) * 0.05).astype(np.float32)


def lr_at(t):
    f = 1.0
    if cfg["lrWarmupSteps"] > 0 and t <= cfg["lrWarmupSteps"]:
        f = t / cfg["lrWarmupSteps"]
    start = cfg["maxSteps"] - cfg["lrDecaySteps"]
    if cfg["lrDecaySteps"] > 0 and t > start:
        frac = min(1.0, (t - start) / cfg["lrDecaySteps"])
        f = min(f, 1 - frac * (1 - cfg["lrEndFraction"]))
    return cfg["lr"] * f


W_enc = torch.tensor(w_enc0, requires_grad=True)
b_enc = torch.tensor(b_enc0, requires_grad=True)
W_dec = torch.tensor(w_dec0, requires_grad=True)
b_dec = torch.tensor(b_dec0, requires_grad=True)
# Same parameter order as the TypeScript state; Adam is per-element so order does not matter.
opt = torch.optim.Adam([W_enc, b_enc, W_dec, b_dec], lr=cfg["lr"], betas=(cfg["adamBeta1"], cfg["adamBeta2"]), eps=cfg["adamEps"])
since_fired = torch.zeros(S, dtype=torch.float64)
metrics = []
k_aux_cfg = min(cfg["kAux"], S)
for step, xb in enumerate(batches, start=1):
    x = torch.tensor(xb) * input_scale
    tv = ((x - x.mean(0)) ** 2).sum()
    z = (x - b_dec) @ W_enc.T + b_enc
    vals, idx = z.topk(k, dim=1)
    acts = torch.zeros(B, S).scatter(1, idx, torch.relu(vals))
    x_hat = acts @ W_dec + b_dec
    e = x - x_hat
    fvu = (e ** 2).sum() / tv
    dead = since_fired > cfg["deadAfterTokens"]
    num_dead = int(dead.sum())
    if num_dead > 0:
        k_aux = min(k_aux_cfg, num_dead)
        s = min(num_dead / k_aux_cfg, 1.0)
        zm = torch.where(dead[None, :], z, torch.tensor(float("-inf")))
        avals, aidx = zm.topk(k_aux, dim=1)
        aux_acts = torch.zeros(B, S).scatter(1, aidx, torch.relu(avals))
        e_hat = aux_acts @ W_dec
        auxk = s * ((e_hat - e.detach()) ** 2).sum() / tv
    else:
        auxk = torch.zeros(())
    loss = fvu + cfg["auxkCoef"] * auxk
    opt.zero_grad()
    loss.backward()
    with torch.no_grad():
        W_dec.grad -= (W_dec.grad * W_dec).sum(1, keepdim=True) * W_dec
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
    opt.step()
    with torch.no_grad():
        W_dec.data /= W_dec.data.norm(dim=1, keepdim=True) + torch.finfo(torch.float32).eps
        since_fired += B
        since_fired[(acts > 0).any(0)] = 0
    ev = (1 - (e.detach() ** 2).sum(1) / ((x - x.mean(0)) ** 2).sum(1)).mean()
    metrics.append(dict(step=step, loss=float(loss), fvu=float(fvu), auxkLoss=float(auxk), numDead=num_dead,
                        l0=float((acts > 0).sum(1).float().mean()), lr=lr_at(step), explainedVariance=float(ev),
                        mse=float((e.detach() ** 2).mean())))


def flat(t):
    return [float(v) for v in np.asarray(t.detach().numpy() if torch.is_tensor(t) else t, dtype=np.float32).ravel()]


out = dict(
    provenance="tools/reference/sae/topk_step_reference.py, torch %s, numpy seed 1234" % torch.__version__,
    config=cfg, batchSize=B, inputScale=input_scale,
    batches=[flat(b) for b in batches],
    initial=dict(wEnc=flat(w_enc0), bEnc=flat(b_enc0), wDec=flat(w_dec0), bDec=flat(b_dec0)),
    metrics=metrics,
    final=dict(wEnc=flat(W_enc), bEnc=flat(b_enc), wDec=flat(W_dec), bDec=flat(b_dec)),
    finalSinceFired=[float(v) for v in since_fired],
)
with open(sys.argv[1], "w") as f:
    json.dump(out, f)
print("dead per step:", [m["numDead"] for m in metrics])
