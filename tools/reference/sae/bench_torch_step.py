"""Peer for bench/sae.ts: one TopK SAE training step the way SAELens does it, in torch 1.13.

Dense: encoder matmul, top-k, dense scatter of the activations into [batch, d_sae], dense decoder
matmul, MSE + (dense) AuxK-style bookkeeping omitted as SAELens does at step 1 (no dead latents),
autograd backward, decoder-gradient projection, torch.optim.Adam, decoder renormalisation.

Protocol (stdin/stdout, one line each): "step N" runs N steps and prints the seconds of each, space
separated; "quit" ends. Threads: argv[5] (same count as ours).
Usage: python3 bench_torch_step.py D_IN D_SAE K BATCH THREADS
"""
import sys
import time

import torch

d_in, d_sae, k, batch, threads = (int(a) for a in sys.argv[1:6])
torch.set_num_threads(threads)
torch.manual_seed(0)
W_dec = torch.randn(d_sae, d_in)
W_dec /= W_dec.norm(dim=1, keepdim=True)
W_enc = W_dec.T.clone().requires_grad_(True)  # SAELens orientation [d_in, d_sae]
W_dec.requires_grad_(True)
b_enc = torch.zeros(d_sae, requires_grad=True)
b_dec = torch.zeros(d_in, requires_grad=True)
opt = torch.optim.Adam([W_enc, b_enc, W_dec, b_dec], lr=1e-4)
x = torch.randn(batch, d_in)


def step():
    pre = (x - b_dec) @ W_enc + b_enc
    vals, idx = pre.topk(k, dim=-1)
    acts = torch.zeros_like(pre).scatter(-1, idx, torch.relu(vals))
    x_hat = acts @ W_dec + b_dec
    e = x_hat - x
    loss = e.pow(2).sum() / (x - x.mean(0)).pow(2).sum()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    with torch.no_grad():
        W_dec.grad -= (W_dec.grad * W_dec).sum(-1, keepdim=True) * W_dec
    opt.step()
    with torch.no_grad():
        W_dec.div_(W_dec.norm(dim=1, keepdim=True))


print("ready", flush=True)
for line in sys.stdin:
    cmd = line.split()
    if not cmd or cmd[0] == "quit":
        break
    times = []
    for _ in range(int(cmd[1])):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    print(" ".join("%.6f" % t for t in times), flush=True)
