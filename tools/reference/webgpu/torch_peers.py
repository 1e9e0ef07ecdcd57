"""PyTorch peers of `pnpm bench:webgpu --peer torch`, run on the same machine's GPU (CUDA when torch sees one, else
the CPU), all in float32 with TF32 off, so the comparison is fp32 against fp32:

  gemm     torch.matmul of random [M, K] @ [K, N] (median of timed calls after a warm-up);
  sae      one TopK SAE training step the SAELens way: dense encoder, top-k, dense scatter into [batch, d_sae], dense
           decoder, FVU loss, autograd backward, decoder-gradient projection, torch.optim.Adam, decoder renormalisation;
  forward  Hugging Face `transformers` Qwen2ForCausalLM loaded from the folder the bench wrote (our random weights,
           safetensors), eager attention, fp32; its logits are written (raw float32, row-major [batch, seq, vocab]) so
           the bench can check our forward against the real library.

Usage: python3 torch_peers.py JOB.json  — JOB: {"gemm": [[M, K, N], ...], "sae": {"d_in", "d_sae", "k", "batch",
"steps"}, "forward": {"folder", "ids": [[...]], "reps", "logits_out"}} (each part optional). Prints progress on stderr
and one JSON line on stdout: {"device", "torch", "gemm": [{"shape", "seconds", "gflops"}], "sae": {"seconds",
"tokens_per_s"}, "forward": {"seconds", "tokens_per_s", "transformers"} | {"error"}}.
"""
import json
import statistics
import sys
import time

import torch

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False


def say(text):
    print(f"torch_peers: {text}", file=sys.stderr, flush=True)


def sync():
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()


def timed(fn, reps):
    """Median seconds of `reps` calls of fn after one warm-up call, each call synchronised."""
    fn()
    sync()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def gemm_peer(shapes):
    out = []
    for m, k, n in shapes:
        a = torch.randn(m, k, device=DEVICE)
        b = torch.randn(k, n, device=DEVICE)
        once = timed(lambda: a @ b, 1)
        reps = max(3, min(50, int(0.5 / max(once, 1e-6))))
        seconds = timed(lambda: a @ b, reps)
        out.append({"shape": [m, k, n], "seconds": seconds, "gflops": 2 * m * k * n / seconds / 1e9})
        say(f"gemm {m}x{k}x{n}: {out[-1]['gflops']:.1f} GFLOP/s")
    return out


def sae_peer(d_in, d_sae, k, batch, steps):
    g = torch.Generator(device="cpu").manual_seed(0)
    w_dec = torch.randn(d_sae, d_in, generator=g)
    w_dec /= w_dec.norm(dim=1, keepdim=True)
    w_dec = w_dec.to(DEVICE)
    w_enc = w_dec.T.clone().requires_grad_(True)  # SAELens orientation [d_in, d_sae]
    w_dec.requires_grad_(True)
    b_enc = torch.zeros(d_sae, device=DEVICE, requires_grad=True)
    b_dec = torch.zeros(d_in, device=DEVICE, requires_grad=True)
    opt = torch.optim.Adam([w_enc, b_enc, w_dec, b_dec], lr=1e-4)
    x = torch.randn(batch, d_in, generator=g).to(DEVICE)

    def step():
        pre = (x - b_dec) @ w_enc + b_enc  # [batch, d_sae]
        vals, idx = pre.topk(k, dim=-1)
        acts = torch.zeros_like(pre).scatter(-1, idx, torch.relu(vals))
        e = acts @ w_dec + b_dec - x
        loss = e.pow(2).sum() / (x - x.mean(0)).pow(2).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        with torch.no_grad():
            w_dec.grad -= (w_dec.grad * w_dec).sum(-1, keepdim=True) * w_dec
        opt.step()
        with torch.no_grad():
            w_dec.div_(w_dec.norm(dim=1, keepdim=True))

    seconds = timed(step, steps)
    say(f"sae step d_in {d_in} d_sae {d_sae} k {k} batch {batch}: {seconds * 1000:.2f} ms")
    return {"seconds": seconds, "tokens_per_s": batch / seconds}


def forward_peer(folder, ids, reps, logits_out):
    try:
        import transformers
        from transformers import Qwen2ForCausalLM
    except ImportError as error:
        return {"error": f"transformers not installed ({error})"}
    major = int(transformers.__version__.split(".")[0])
    dtype_arg = {"dtype": torch.float32} if major >= 5 else {"torch_dtype": torch.float32}
    model = Qwen2ForCausalLM.from_pretrained(folder, attn_implementation="eager", **dtype_arg).to(DEVICE).eval()
    input_ids = torch.tensor(ids, dtype=torch.long, device=DEVICE)
    with torch.inference_mode():
        run = lambda: model(input_ids=input_ids, use_cache=False).logits  # noqa: E731
        seconds = timed(run, reps)
        logits = run().float().contiguous().cpu().numpy()
    logits.tofile(logits_out)
    tokens = input_ids.numel()
    say(f"transformers {transformers.__version__} forward {list(input_ids.shape)}: {seconds * 1000:.1f} ms")
    return {"seconds": seconds, "tokens_per_s": tokens / seconds, "transformers": transformers.__version__}


def main():
    job = json.load(open(sys.argv[1]))
    name = torch.cuda.get_device_name(0) if DEVICE.type == "cuda" else "cpu"
    say(f"torch {torch.__version__} on {name}")
    result = {"device": name, "torch": torch.__version__}
    if "gemm" in job:
        result["gemm"] = gemm_peer(job["gemm"])
    if "sae" in job:
        s = job["sae"]
        result["sae"] = sae_peer(s["d_in"], s["d_sae"], s["k"], s["batch"], s["steps"])
    if "forward" in job:
        f = job["forward"]
        result["forward"] = forward_peer(f["folder"], f["ids"], f["reps"], f["logits_out"])
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
