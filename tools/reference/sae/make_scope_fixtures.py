"""Writes the Gemma Scope / Qwen Scope / .npy fixtures of packages/sae/test/fixtures/scope (numpy, torch 1.13).

Gemma Scope: params.npz as np.savez writes it (W_enc [d_in, d_sae], W_dec [d_sae, d_in], b_enc, b_dec, threshold),
with expected JumpReLU codes and reconstructions computed here in float64 (pre = x @ W_enc + b_enc; f = pre where
pre > threshold; x_hat = f @ W_dec + b_dec). Qwen Scope: layer2.sae.pt as torch.save of a plain dict (W_enc
[d_sae, d_in], W_dec [d_in, d_sae], b_enc, b_dec) with expected TopK codes (pre = x @ W_enc.T + b_enc, top k, ReLU).
Plus .npy variants (header versions, dtypes, refusals) and broken params.npz files. Run from the repository root:
    /usr/bin/python3 tools/reference/sae/make_scope_fixtures.py
"""
import json
import os

import numpy as np
import torch

OUT = "packages/sae/test/fixtures/scope"
D_IN, D_SAE, K = 16, 32, 4
rng = np.random.default_rng(22)


def dump(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f)


def gemma_scope():
    folder = os.path.join(OUT, "gemma-scope-2b-pt-res", "layer_3", "width_32", "average_l0_5")
    os.makedirs(folder, exist_ok=True)
    w_enc = rng.normal(size=(D_IN, D_SAE)).astype(np.float32) / 4
    w_dec = rng.normal(size=(D_SAE, D_IN)).astype(np.float32) / 4
    b_enc = rng.normal(size=D_SAE).astype(np.float32) / 4
    b_dec = rng.normal(size=D_IN).astype(np.float32) / 4
    threshold = rng.uniform(0.2, 1.0, size=D_SAE).astype(np.float32)
    np.savez(os.path.join(folder, "params.npz"), W_enc=w_enc, W_dec=w_dec, b_enc=b_enc, b_dec=b_dec, threshold=threshold)
    x = rng.normal(size=(3, D_IN)).astype(np.float32)
    pre = x.astype(np.float64) @ w_enc.astype(np.float64) + b_enc
    acts = np.where(pre > threshold, pre, 0.0)
    recon = acts @ w_dec.astype(np.float64) + b_dec
    # every row has latents both just above and below their threshold: the rule matters
    assert (acts > 0).sum(axis=1).min() >= 2 and (acts > 0).sum(axis=1).max() < D_SAE
    dump(os.path.join(OUT, "gemma-scope-expected.json"), {"x": x.tolist(), "acts": acts.tolist(), "recon": recon.tolist()})
    # refusals: a wrong shape, an integer dtype, an object array (a pickle inside), a missing array
    bad = os.path.join(OUT, "bad-npz")
    os.makedirs(bad, exist_ok=True)
    arrays = dict(W_enc=w_enc, W_dec=w_dec, b_enc=b_enc, b_dec=b_dec, threshold=threshold)
    for name, change in [
        ("shape", dict(b_enc=b_enc[:-1])),
        ("dtype", dict(threshold=(threshold * 100).astype(np.int32))),
        ("object", dict(threshold=np.array([1.0, "x"], dtype=object))),
        ("missing", dict(threshold=None)),
    ]:
        a = {k: v for k, v in {**arrays, **change}.items() if v is not None}
        os.makedirs(os.path.join(bad, name), exist_ok=True)
        np.savez(os.path.join(bad, name, "params.npz"), **a)
    # the same SAE compressed (deflate entries)
    comp = os.path.join(OUT, "gemma-scope-compressed")
    os.makedirs(comp, exist_ok=True)
    np.savez_compressed(os.path.join(comp, "params.npz"), **arrays)


def npy_variants():
    folder = os.path.join(OUT, "npy")
    os.makedirs(folder, exist_ok=True)
    a = (np.arange(12, dtype=np.float64).reshape(3, 4) - 5.5) / 4
    np.save(os.path.join(folder, "f4-v1.npy"), a.astype(np.float32))
    np.save(os.path.join(folder, "f2.npy"), a.astype(np.float16))
    np.save(os.path.join(folder, "f8.npy"), a)
    np.save(os.path.join(folder, "scalar.npy"), np.float32(2.5))
    np.save(os.path.join(folder, "vector.npy"), a[0].astype(np.float32))
    with open(os.path.join(folder, "f4-v2.npy"), "wb") as f:
        np.lib.format.write_array(f, a.astype(np.float32), version=(2, 0))
    with open(os.path.join(folder, "f4-v3.npy"), "wb") as f:
        np.lib.format.write_array(f, a.astype(np.float32), version=(3, 0))
    np.save(os.path.join(folder, "fortran.npy"), np.asfortranarray(a.astype(np.float32)))
    np.save(os.path.join(folder, "big-endian.npy"), a.astype(">f4"))
    np.save(os.path.join(folder, "int32.npy"), np.arange(12, dtype=np.int32).reshape(3, 4))
    np.save(os.path.join(folder, "object.npy"), np.array([1, "two"], dtype=object), allow_pickle=True)
    np.save(os.path.join(folder, "structured.npy"), np.zeros(2, dtype=[("a", "<f4"), ("b", "<f4")]))
    # bfloat16 as ml_dtypes saves it: a 2-byte void; the bits are float32's upper half
    bits = (a.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
    np.save(os.path.join(folder, "bf16-void.npy"), bits.view("V2"))
    dump(os.path.join(folder, "expected.json"), {"values": a.ravel().tolist(), "shape": [3, 4]})


def qwen_scope():
    folder = os.path.join(OUT, "SAE-Res-Tiny-W1K-L0_4")
    os.makedirs(folder, exist_ok=True)
    w_enc = torch.randn(D_SAE, D_IN, generator=torch.Generator().manual_seed(5)) / 4
    w_dec = torch.randn(D_IN, D_SAE, generator=torch.Generator().manual_seed(6)) / 4
    b_enc = torch.randn(D_SAE, generator=torch.Generator().manual_seed(7)) / 4
    b_dec = torch.randn(D_IN, generator=torch.Generator().manual_seed(8)) / 4
    torch.save({"W_enc": w_enc, "W_dec": w_dec, "b_enc": b_enc, "b_dec": b_dec}, os.path.join(folder, "layer2.sae.pt"))
    x = torch.randn(3, D_IN, generator=torch.Generator().manual_seed(9))
    pre = x.double() @ w_enc.double().T + b_enc.double()
    top = pre.topk(K, dim=-1)
    acts = torch.zeros_like(pre).scatter(-1, top.indices, top.values.relu())
    recon = acts @ w_dec.double().T + b_dec.double()
    # the k-th and (k+1)-th pre-activations differ by a margin: f32 cannot reorder them
    s = pre.sort(dim=-1, descending=True).values
    assert (s[:, K - 1] - s[:, K]).min() > 1e-3
    dump(os.path.join(OUT, "qwen-scope-expected.json"), {"x": x.tolist(), "acts": acts.tolist(), "recon": recon.tolist()})


gemma_scope()
npy_variants()
qwen_scope()
