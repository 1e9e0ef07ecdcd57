"""Shared fixture writing for the Llama-style references (llama, qwen3): random HF-layout weights, the HF folder
(config.json + model.safetensors), and expected-seq<N>.safetensors with logits, every hook of the probe layer, every
resid_post, and `ablated.<quirk>` logits (the same forward with one quirk switched off) in the longest sequence's
file, so a test can prove each fixture exercises its quirks.
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "qwen2"))
import safetensors_io as st  # noqa: E402

PROBE_LAYER = 1
SEQ_LENS = (7, 40)


def random_weights(spec, qk_norm=False):
    """HF-layout float64 weights with scales that keep activations O(1) through the stack."""
    rng = np.random.default_rng(spec["seed"])
    d, f, v = spec["hidden_size"], spec["intermediate_size"], spec["vocab_size"]
    nh, nkv = spec["num_attention_heads"], spec["num_key_value_heads"]
    hd = spec.get("head_dim") or d // nh
    n_layers = spec["num_hidden_layers"]
    out_scale = 2.0 / np.sqrt(2 * n_layers)
    w = {"model.embed_tokens.weight": rng.normal(0, 0.4, (v, d)), "model.norm.weight": 1 + rng.normal(0, 0.1, d)}
    for L in range(n_layers):
        p = f"model.layers.{L}."
        w[p + "input_layernorm.weight"] = 1 + rng.normal(0, 0.1, d)
        w[p + "post_attention_layernorm.weight"] = 1 + rng.normal(0, 0.1, d)
        # q/k scaled up so attention patterns are sharp enough that RoPE frequencies and head mapping matter
        w[p + "self_attn.q_proj.weight"] = rng.normal(0, 2 / np.sqrt(d), (nh * hd, d))
        w[p + "self_attn.k_proj.weight"] = rng.normal(0, 2 / np.sqrt(d), (nkv * hd, d))
        w[p + "self_attn.v_proj.weight"] = rng.normal(0, 1 / np.sqrt(d), (nkv * hd, d))
        w[p + "self_attn.o_proj.weight"] = rng.normal(0, out_scale / np.sqrt(nh * hd), (d, nh * hd))
        if qk_norm:
            w[p + "self_attn.q_norm.weight"] = 1 + rng.normal(0, 0.3, hd)
            w[p + "self_attn.k_norm.weight"] = 1 + rng.normal(0, 0.3, hd)
        w[p + "mlp.gate_proj.weight"] = rng.normal(0, 1 / np.sqrt(d), (f, d))
        w[p + "mlp.up_proj.weight"] = rng.normal(0, 1 / np.sqrt(d), (f, d))
        w[p + "mlp.down_proj.weight"] = rng.normal(0, out_scale / np.sqrt(f), (d, f))
    if not spec["tie_word_embeddings"]:
        w["lm_head.weight"] = rng.normal(0, 1 / np.sqrt(d), (v, d))
    return w


def write_model(folder, config, dtype, weights):
    """Writes the HF folder; returns the weights exactly as stored (bf16-rounded), as float64."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    stored = {k: st.as_stored(val, dtype) for k, val in weights.items()}
    st.write(os.path.join(folder, "model.safetensors"), stored, {"format": "pt"})
    return {k: s.f64() for k, s in st.read(os.path.join(folder, "model.safetensors")).items()}


def f32(x):
    return st.as_stored(x, "F32")


def dump_forward(folder, forward, cfg, W, seq_len, rng, ablations):
    """forward(cfg, W, ids, keep) -> (logits, hooks); ablations: {quirk: forward-with-it-off} (longest seq only)."""
    ids = rng.integers(0, cfg["vocab_size"], seq_len)
    probe = min(PROBE_LAYER, cfg["num_hidden_layers"] - 1)

    def keep(name):
        return name.endswith("hook_resid_post") or name.startswith(f"blocks.{probe}.") or name in (
            "hook_embed", "ln_final.hook_normalized")

    logits, hooks = forward(cfg, W, ids, keep)
    out = {"input_ids": st.as_stored(ids[None], "I32"), "logits": f32(logits[None])}
    for name, value in hooks.items():
        out[name] = f32(value)
    if seq_len == max(SEQ_LENS):
        for quirk, off in ablations.items():
            ablated, _ = off(cfg, W, ids, lambda name: False)
            out[f"ablated.{quirk}"] = f32(ablated[None])
    st.write(os.path.join(folder, f"expected-seq{seq_len}.safetensors"), out, {"probe_layer": str(probe)})


def write_cases(root, cases, hf_config, forward, ablations_of, qk_norm, generator):
    """cases: {name: spec}; hf_config(spec) -> config.json; ablations_of(spec) -> {quirk: forward}."""
    root = os.path.abspath(root)
    os.makedirs(root, exist_ok=True)
    manifest = {"cases": {}, "probe_layer": PROBE_LAYER, "seq_lens": list(SEQ_LENS), "generator": generator}
    for case, spec in cases.items():
        folder = os.path.join(root, case)
        cfg = hf_config(spec)
        W = write_model(folder, cfg, spec["dtype"], random_weights(spec, qk_norm))
        rng = np.random.default_rng(100 + spec["seed"])
        ablations = ablations_of(spec)
        for n in SEQ_LENS:
            dump_forward(folder, forward, cfg, W, n, rng, ablations)
        manifest["cases"][case] = {
            "dtype": spec["dtype"], "tied": spec["tie_word_embeddings"],
            "gqa": spec["num_key_value_heads"] < spec["num_attention_heads"],
            "rope_scaling": next((s.get("rope_type", s.get("type")) for s in [spec.get("rope_scaling")] if s), None), "ablations": sorted(ablations)}
    with open(os.path.join(root, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    print("wrote", root)
