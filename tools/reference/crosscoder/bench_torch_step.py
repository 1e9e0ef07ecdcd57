"""Peer for bench/crosscoder.ts: one BatchTopK crosscoder training step with dense torch autograd, in torch 1.13.

The definitions of reference_step.py at benchmark size (no dead latents at step 1, so no AuxK, as the bench's own
step): encoder matmul over [x_base | x_chat], ReLU, scores f * (|d_base| + |d_chat|), top batch*k over the flattened
batch, dense masked activations, dense decoder matmul, FVU, autograd backward, torch.optim.Adam.

Protocol (stdin/stdout, one line each): "step N" runs N steps and prints the seconds of each, space separated;
"quit" ends. Usage: python3 bench_torch_step.py D_IN D_SAE K BATCH THREADS
"""
import sys
import time

import torch

d_in, d_sae, k, batch, threads = (int(a) for a in sys.argv[1:6])
torch.set_num_threads(threads)
torch.manual_seed(0)
w = 2 * d_in
W_dec = torch.randn(d_sae, 2, d_in)
W_dec = (W_dec / W_dec.norm(dim=2, keepdim=True) * 0.5).reshape(d_sae, w)
W_enc = W_dec.clone().requires_grad_(True)
W_dec.requires_grad_(True)
b_enc = torch.zeros(d_sae, requires_grad=True)
b_dec = torch.zeros(w, requires_grad=True)
opt = torch.optim.Adam([W_enc, b_enc, W_dec, b_dec], lr=1e-4)
x = torch.randn(batch, w)


def step():
    f = torch.relu(x @ W_enc.T + b_enc)
    with torch.no_grad():
        n = W_dec[:, :d_in].norm(dim=1) + W_dec[:, d_in:].norm(dim=1)
        _, idx = (f * n).flatten().topk(batch * k)
        mask = torch.zeros(batch * d_sae)
        mask[idx] = 1
    a = f * mask.view(batch, d_sae)
    e = x - (a @ W_dec + b_dec)
    loss = e.pow(2).sum() / (x - x.mean(0)).pow(2).sum()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


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
