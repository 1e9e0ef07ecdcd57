"""Shared fixture writer of the Gemma 2 and Gemma 3 references (the families' make_fixtures.py give the cases).

Per case: <case>/config.json + <case>/model.safetensors (a real HF folder) and
  expected-seq1.safetensors    input_ids, logits, every blocks.L.hook_resid_post
  expected-seqN.safetensors    input_ids, logits and EVERY hook of every layer (attn_scores with -inf where masked)
  padding.safetensors          a left-padded batch (lengths N and N/2+1): logits of each row at its real positions
plus manifest.json: the cases, what each exercises (measured: how often the soft-caps bind, the quirk-off effects).
"""
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "qwen2"))
import gemma_ref as ref  # noqa: E402
import safetensors_io as st  # noqa: E402

# A quirk "breaks the match" when switching it off moves the logits by more than this (100x the test tolerance).
QUIRK_MIN_EFFECT = 1e-2
# tanh-approximate vs exact GELU differ by at most 4.7e-4 (at |x| = 2.7), ~2e-4 relative for N(0, 1) gates and less
# for any other scale: measured where it acts, on layer 0's mlp.hook_post, against 1.2x the test tolerance (1e-4) —
# it breaks a 1e-4 match, but no fixture can make it break one by 100x (its effect on the logits is recorded too).
GELU_SITE, GELU_MIN_EFFECT = "blocks.0.mlp.hook_post", 1.2e-4


def random_weights(cfg, seed, qk_gain):
    """HF-layout weights. q/k projections are scaled by qk_gain so the attention soft-cap binds."""
    rng = np.random.default_rng(seed)
    d, f, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    nh, nkv, hd = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    norm = lambda n: rng.normal(0, 0.15, n)  # stored offsets from 1
    w = {"model.embed_tokens.weight": rng.normal(0, 0.5, (v, d)), "model.norm.weight": norm(d)}
    for L in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{L}."
        for n in ("input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm",
                  "post_feedforward_layernorm"):
            w[p + n + ".weight"] = norm(d)
        w[p + "self_attn.q_proj.weight"] = rng.normal(0, qk_gain / np.sqrt(d), (nh * hd, d))
        w[p + "self_attn.k_proj.weight"] = rng.normal(0, qk_gain / np.sqrt(d), (nkv * hd, d))
        w[p + "self_attn.v_proj.weight"] = rng.normal(0, 1 / np.sqrt(d), (nkv * hd, d))
        w[p + "self_attn.o_proj.weight"] = rng.normal(0, 1 / np.sqrt(nh * hd), (d, nh * hd))
        if cfg["model_type"] == "gemma3_text":
            w[p + "self_attn.q_norm.weight"] = norm(hd)
            w[p + "self_attn.k_norm.weight"] = norm(hd)
        w[p + "mlp.gate_proj.weight"] = rng.normal(0, 1 / np.sqrt(d), (f, d))
        w[p + "mlp.up_proj.weight"] = rng.normal(0, 1 / np.sqrt(d), (f, d))
        w[p + "mlp.down_proj.weight"] = rng.normal(0, 1 / np.sqrt(f), (d, f))
    if not cfg["tie_word_embeddings"]:
        w["lm_head.weight"] = rng.normal(0, 0.5, (v, d))
    return w


def write_model(folder, cfg, weights, dtype):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    stored = {k: st.as_stored(val, dtype) for k, val in weights.items()}
    st.write(os.path.join(folder, "model.safetensors"), stored, {"format": "pt"})
    # read back exactly what the runtime will read (bf16-rounded), as float64
    return {k: s.f64() for k, s in st.read(os.path.join(folder, "model.safetensors")).items()}


def f32(x):
    return st.as_stored(x, "F32")


def rel(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def binding(cfg, W, ids):
    """Fractions of attention scores / logits beyond their soft-cap (tanh(1) = 0.76: far from linear there)."""
    s = ref.settings(cfg)
    out = {}
    if s["attn_cap"] is not None:
        _, h = ref.forward_one(cfg, W, ids, off=("attn_softcap",), keep=lambda n: n.endswith("hook_attn_scores"))
        scores = np.concatenate([v[np.isfinite(v)] for v in h.values()])
        out["attn_scores_beyond_cap"] = float(np.mean(np.abs(scores) > s["attn_cap"]))
    if s["final_cap"] is not None:
        logits, _ = ref.forward_one(cfg, W, ids, off=("final_softcap",), keep=lambda n: False)
        out["logits_beyond_cap"] = float(np.mean(np.abs(logits) > s["final_cap"]))
    return out


def dump_case(root, case, cfg, dtype, seed, qk_gain, seq, quirks):
    folder = os.path.join(root, case)
    W = write_model(folder, cfg, random_weights(cfg, seed, qk_gain), dtype)
    rng = np.random.default_rng(100 + seed)
    ids1 = rng.integers(0, cfg["vocab_size"], 1)
    logits, hooks = ref.forward_one(cfg, W, ids1, keep=lambda n: n.endswith("hook_resid_post"))
    st.write(os.path.join(folder, "expected-seq1.safetensors"),
             {"input_ids": st.as_stored(ids1[None], "I32"), "logits": f32(logits[None]),
              **{k: f32(v) for k, v in hooks.items()}})
    ids = rng.integers(0, cfg["vocab_size"], seq)
    logits, hooks = ref.forward_one(cfg, W, ids)
    st.write(os.path.join(folder, f"expected-seq{seq}.safetensors"),
             {"input_ids": st.as_stored(ids[None], "I32"), "logits": f32(logits[None]),
              **{k: f32(v) for k, v in hooks.items()}})
    # every quirk the case claims must move the logits well beyond the test tolerance when switched off
    effects = {}
    for q in quirks:
        off_logits, off_hooks = ref.forward_one(cfg, W, ids, keep=lambda n: n == GELU_SITE, off=(q,))
        effects[q] = rel(off_logits, logits)
        if q == "gelu_tanh":
            effects[f"gelu_tanh@{GELU_SITE}"] = at_site = rel(off_hooks[GELU_SITE], hooks[GELU_SITE])
            assert at_site > GELU_MIN_EFFECT, f"{case}: exact GELU moves {GELU_SITE} by only {at_site:.2e}"
            continue
        assert effects[q] > QUIRK_MIN_EFFECT, f"{case}: switching off {q} moves the logits by only {effects[q]:.2e}"
    dump_padding(folder, cfg, W, rng, seq)
    info = {"dtype": dtype, "tied": cfg["tie_word_embeddings"],
            "gqa": cfg["num_key_value_heads"] < cfg["num_attention_heads"], "seq": seq,
            "sliding_layers": [L for L, sl in enumerate(ref.settings(cfg)["sliding"]) if sl],
            "binding": binding(cfg, W, ids), "quirk_effect_on_logits": effects}
    b = info["binding"]
    assert all(v > 0.05 for v in b.values()), f"{case}: a soft-cap barely binds: {b}"
    return info


def dump_padding(folder, cfg, W, rng, seq):
    """Left padding with a sliding window: pads count in the window's distance (HF masks by cache position)."""
    lengths = [seq, seq // 2 + 1]
    ids = np.zeros((2, seq), dtype=np.int64)
    mask = np.zeros((2, seq), dtype=np.int64)
    logits = np.zeros((2, seq, cfg["vocab_size"]))
    for r, n in enumerate(lengths):
        ids[r, seq - n:] = rng.integers(2, cfg["vocab_size"], n)
        mask[r, seq - n:] = 1
        padded, _ = ref.forward_one(cfg, W, ids[r], mask=mask[r], keep=lambda name: False)
        logits[r, seq - n:] = padded[seq - n:]
    st.write(os.path.join(folder, "padding.safetensors"), {
        "input_ids": st.as_stored(ids, "I32"), "attention_mask": st.as_stored(mask, "I32"), "logits": f32(logits)})


def main(family, cases, default_root):
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else default_root)
    os.makedirs(root, exist_ok=True)
    manifest = {"family": family, "generator": f"tools/reference/{family}/make_fixtures.py",
                "quirk_min_effect": QUIRK_MIN_EFFECT, "gelu_min_effect": GELU_MIN_EFFECT, "cases": {}}
    for case, spec in cases.items():
        manifest["cases"][case] = dump_case(root, case, spec["config"], spec["dtype"], spec["seed"], spec["qk_gain"],
                                            spec["seq"], spec["quirks"])
        print(case, json.dumps(manifest["cases"][case]))
    with open(os.path.join(root, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    print("wrote", root)
