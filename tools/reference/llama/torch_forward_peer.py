"""Torch peer for `bench/forward.ts --case llama-3.2-1b`: a Llama forward pass in float32 under
torch.inference_mode() — GQA (kv heads repeated for one batched matmul over all heads), no biases, head_dim from the
config, llama3 RoPE scaling (inverse frequencies computed once), tied unembedding — as fast as plain torch runs it.

Protocol (stdin/stdout, one line each): the first line is a JSON config
  {"vocab": V, "d_model": D, "n_layers": L, "n_heads": H, "n_kv_heads": KV, "head_dim": HD, "d_mlp": F,
   "theta": T, "eps": E, "rope_scaling": {"factor", "low_freq_factor", "high_freq_factor",
   "original_max_position_embeddings"} | null, "threads": N, "seed": S, "batch": B, "seq": Q}
then each line "forward" runs one forward pass on a fixed random [B, Q] batch and answers "seconds=<float>";
"quit" ends. Weights are random from torch.manual_seed (values do not matter for timing).
"""
import json
import math
import sys
import time

import torch


def llama3_inv_freq(inv, s):
    factor, low, high = s["factor"], s["low_freq_factor"], s["high_freq_factor"]
    orig = s["original_max_position_embeddings"]
    wavelen = 2 * math.pi / inv
    out = torch.where(wavelen > orig / low, inv / factor, inv)
    smooth = (orig / wavelen - low) / (high - low)
    medium = (wavelen >= orig / high) & (wavelen <= orig / low)
    return torch.where(medium, (1 - smooth) * inv / factor + smooth * inv, out)


class Peer:
    def __init__(self, c):
        torch.manual_seed(c["seed"])
        torch.set_num_threads(c["threads"])
        self.c = c
        d, f, v = c["d_model"], c["d_mlp"], c["vocab"]
        h, kv, hd = c["n_heads"], c["n_kv_heads"], c["head_dim"]
        r = lambda *s: torch.randn(*s) * 0.02
        self.embed = r(v, d)
        self.layers = [dict(ln1=torch.ones(d), ln2=torch.ones(d), wq=r(h * hd, d), wk=r(kv * hd, d),
                            wv=r(kv * hd, d), wo=r(d, h * hd), wg=r(f, d), wu=r(f, d), wd=r(d, f))
                       for _ in range(c["n_layers"])]
        self.norm = torch.ones(d)
        inv = 1.0 / (c["theta"] ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
        if c.get("rope_scaling"):
            inv = llama3_inv_freq(inv, c["rope_scaling"])
        freqs = torch.outer(torch.arange(c["seq"], dtype=torch.float32), inv)
        emb = torch.cat([freqs, freqs], dim=-1)
        self.cos, self.sin = emb.cos()[None, None], emb.sin()[None, None]

    def rms(self, x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.c["eps"]) * w

    def rope(self, x):  # x [B, H, S, hd]
        half = x.shape[-1] // 2
        return x * self.cos + torch.cat([-x[..., half:], x[..., :half]], dim=-1) * self.sin

    def forward(self, ids):
        c = self.c
        B, S = ids.shape
        h, kv, hd = c["n_heads"], c["n_kv_heads"], c["head_dim"]
        mask = torch.ones(S, S, dtype=torch.bool).tril()
        x = self.embed[ids]
        for w in self.layers:
            xn = self.rms(x, w["ln1"])
            q = self.rope((xn @ w["wq"].T).view(B, S, h, hd).transpose(1, 2))
            k = self.rope((xn @ w["wk"].T).view(B, S, kv, hd).transpose(1, 2)).repeat_interleave(h // kv, dim=1)
            v = (xn @ w["wv"].T).view(B, S, kv, hd).transpose(1, 2).repeat_interleave(h // kv, dim=1)
            scores = (q @ k.transpose(-1, -2) / hd ** 0.5).masked_fill(~mask, float("-inf"))
            z = torch.softmax(scores, dim=-1) @ v  # [B, H, S, hd]
            x = x + z.transpose(1, 2).reshape(B, S, h * hd) @ w["wo"].T
            xn = self.rms(x, w["ln2"])
            x = x + (torch.nn.functional.silu(xn @ w["wg"].T) * (xn @ w["wu"].T)) @ w["wd"].T
        return self.rms(x, self.norm) @ self.embed.T


def main():
    c = json.loads(sys.stdin.readline())
    peer = Peer(c)
    ids = torch.randint(0, c["vocab"], (c["batch"], c["seq"]), generator=torch.Generator().manual_seed(c["seed"] + 1))
    print(f"ready threads={torch.get_num_threads()}", flush=True)
    for line in sys.stdin:
        if line.split()[:1] != ["forward"]:
            break
        with torch.inference_mode():
            t0 = time.perf_counter()
            peer.forward(ids)
            dt = time.perf_counter() - t0
        print(f"seconds={dt}", flush=True)


if __name__ == "__main__":
    main()
