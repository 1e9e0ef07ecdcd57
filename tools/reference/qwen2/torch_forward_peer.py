"""Torch peer for bench/forward.ts and bench/generate.ts: a Qwen2 forward pass in float32 under
torch.inference_mode(), attention batched over all heads at once (one matmul for QK^T and one for PV).

Protocol (stdin/stdout, one line each): the first line is a JSON config
  {"vocab": V, "d_model": D, "n_layers": L, "n_heads": H, "n_kv_heads": KV, "d_mlp": F, "theta": T, "eps": E,
   "threads": N, "seed": S, "batch": B, "seq": Q}
then each line "forward" runs one forward pass on a fixed random [B, Q] batch and answers "seconds=<float>";
"generate <prompt> <new> <kv 0|1>" runs greedy generation and answers "seconds=<float>"; "quit" ends.
Weights are random from torch.manual_seed (values do not matter for timing).
"""
import json
import sys
import time

import torch


class Peer:
    def __init__(self, c):
        torch.manual_seed(c["seed"])
        torch.set_num_threads(c["threads"])
        self.c = c
        d, f, v = c["d_model"], c["d_mlp"], c["vocab"]
        h, kv = c["n_heads"], c["n_kv_heads"]
        hd = d // h
        self.hd = hd
        r = lambda *s: torch.randn(*s) * 0.02
        self.embed = r(v, d)
        self.layers = []
        for _ in range(c["n_layers"]):
            self.layers.append(dict(
                ln1=torch.ones(d), ln2=torch.ones(d),
                wq=r(h * hd, d), bq=r(h * hd), wk=r(kv * hd, d), bk=r(kv * hd), wv=r(kv * hd, d), bv=r(kv * hd),
                wo=r(d, h * hd), wg=r(f, d), wu=r(f, d), wd=r(d, f)))
        self.norm = torch.ones(d)
        inv = 1.0 / (c["theta"] ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
        pos = torch.arange(8192, dtype=torch.float32)
        freqs = torch.outer(pos, inv)
        emb = torch.cat([freqs, freqs], dim=-1)
        self.cos, self.sin = emb.cos(), emb.sin()

    def rms(self, x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.c["eps"]) * w

    def rope(self, x, positions):  # x [B, H, S, hd]
        cos = self.cos[positions][None, None]
        sin = self.sin[positions][None, None]
        half = x.shape[-1] // 2
        rot = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
        return x * cos + rot * sin

    def forward(self, ids, cache=None, start=0):
        """ids [B, S]. cache: list of (k, v) per layer or None (no cache). Returns logits [B, S, V]."""
        c = self.c
        B, S = ids.shape
        h, kv, hd = c["n_heads"], c["n_kv_heads"], self.hd
        positions = torch.arange(start, start + S)
        x = self.embed[ids]
        for i, w in enumerate(self.layers):
            xn = self.rms(x, w["ln1"])
            q = (xn @ w["wq"].T + w["bq"]).view(B, S, h, hd).transpose(1, 2)
            k = (xn @ w["wk"].T + w["bk"]).view(B, S, kv, hd).transpose(1, 2)
            v = (xn @ w["wv"].T + w["bv"]).view(B, S, kv, hd).transpose(1, 2)
            q, k = self.rope(q, positions), self.rope(k, positions)
            if cache is not None:
                if len(cache) > i:
                    k = torch.cat([cache[i][0], k], dim=2)
                    v = torch.cat([cache[i][1], v], dim=2)
                    cache[i] = (k, v)
                else:
                    cache.append((k, v))
            if kv != h:
                k = k.repeat_interleave(h // kv, dim=1)
                v = v.repeat_interleave(h // kv, dim=1)
            scores = q @ k.transpose(-1, -2) / hd ** 0.5  # [B, H, S, T]
            T = k.shape[2]
            mask = torch.ones(S, T, dtype=torch.bool).tril(diagonal=T - S)
            scores = scores.masked_fill(~mask, float("-inf"))
            z = torch.softmax(scores, dim=-1) @ v  # [B, H, S, hd]
            x = x + z.transpose(1, 2).reshape(B, S, h * hd) @ w["wo"].T
            xn = self.rms(x, w["ln2"])
            x = x + (torch.nn.functional.silu(xn @ w["wg"].T) * (xn @ w["wu"].T)) @ w["wd"].T
        return self.rms(x, self.norm) @ self.embed.T

    def generate(self, prompt, new, use_kv):
        ids = prompt
        if use_kv:
            cache = []
            logits = self.forward(ids, cache, 0)
            for step in range(new):
                tok = logits[:, -1].argmax(-1, keepdim=True)
                ids = torch.cat([ids, tok], dim=1)
                if step + 1 < new:
                    logits = self.forward(tok, cache, ids.shape[1] - 1)
        else:
            for _ in range(new):
                tok = self.forward(ids)[:, -1].argmax(-1, keepdim=True)
                ids = torch.cat([ids, tok], dim=1)
        return ids


def main():
    c = json.loads(sys.stdin.readline())
    peer = Peer(c)
    g = torch.Generator().manual_seed(c["seed"] + 1)
    ids = torch.randint(0, c["vocab"], (c["batch"], c["seq"]), generator=g)
    print(f"ready threads={torch.get_num_threads()}", flush=True)
    for line in sys.stdin:
        parts = line.split()
        if not parts or parts[0] == "quit":
            break
        with torch.inference_mode():
            t0 = time.perf_counter()
            if parts[0] == "forward":
                peer.forward(ids)
            elif parts[0] == "generate":
                prompt = torch.randint(0, c["vocab"], (1, int(parts[1])), generator=g)
                peer.generate(prompt, int(parts[2]), parts[3] == "1")
            dt = time.perf_counter() - t0
        print(f"seconds={dt}", flush=True)


if __name__ == "__main__":
    main()
