"""Builds tiny random Qwen2 checkpoints as real Hugging Face folders and dumps float64-reference outputs.

Run: /usr/bin/python3 tools/reference/qwen2/make_fixtures.py [OUT_DIR]
(default OUT_DIR: packages/runtime/test/fixtures/qwen2). Deterministic: fixed numpy seeds.

Per model case (GQA/MHA x tied/untied x bf16/f32):
  <case>/config.json, <case>/model.safetensors          the checkpoint, written from the HF layout
  <case>/expected-seq<N>.safetensors                    input_ids, logits, every blocks.L.hook_resid_post and,
                                                        for layer PROBE, every hook of that layer (f32 copies)
Issue-5 extensions:
  padding.safetensors     left-padded batch: input_ids, attention_mask, per-sequence logits/resid at real positions
  greedy.safetensors      greedy generation (full recomputation) tokens + per-step logits, stop from generation_config
  lora-<name>/            PEFT adapter folders + expected merged weights and merged-model logits
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qwen2_ref as ref  # noqa: E402
import safetensors_io as st  # noqa: E402

PROBE_LAYER = 1
SEQ_LENS = (1, 7, 64)

CASES = {
    "gqa-tied-bf16": dict(vocab_size=96, hidden_size=32, num_hidden_layers=3, num_attention_heads=4,
                          num_key_value_heads=2, intermediate_size=48, rope_theta=10000.0, rms_norm_eps=1e-6,
                          tie_word_embeddings=True, dtype="BF16", seed=1),
    "mha-untied-f32": dict(vocab_size=80, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                           num_key_value_heads=4, intermediate_size=64, rope_theta=1000000.0, rms_norm_eps=1e-5,
                           tie_word_embeddings=False, dtype="F32", seed=2),
    "gqa-untied-f32": dict(vocab_size=64, hidden_size=48, num_hidden_layers=2, num_attention_heads=6,
                           num_key_value_heads=2, intermediate_size=40, rope_theta=10000.0, rms_norm_eps=1e-6,
                           tie_word_embeddings=False, dtype="F32", seed=3),
    "mha-tied-bf16": dict(vocab_size=72, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                          num_key_value_heads=2, intermediate_size=56, rope_theta=10000.0, rms_norm_eps=1e-6,
                          tie_word_embeddings=True, dtype="BF16", seed=4),
}


def hf_config(spec):
    return {
        "architectures": ["Qwen2ForCausalLM"],
        "model_type": "qwen2",
        "vocab_size": spec["vocab_size"],
        "hidden_size": spec["hidden_size"],
        "intermediate_size": spec["intermediate_size"],
        "num_hidden_layers": spec["num_hidden_layers"],
        "num_attention_heads": spec["num_attention_heads"],
        "num_key_value_heads": spec["num_key_value_heads"],
        "hidden_act": "silu",
        "max_position_embeddings": 128,
        "rms_norm_eps": spec["rms_norm_eps"],
        "rope_theta": spec["rope_theta"],
        "tie_word_embeddings": spec["tie_word_embeddings"],
        "torch_dtype": "bfloat16" if spec["dtype"] == "BF16" else "float32",
        "use_sliding_window": False,
        "attention_dropout": 0.0,
        "bos_token_id": 0,
        "eos_token_id": 1,
    }


def random_weights(spec):
    """HF-layout weights with scales that keep activations O(1) through the stack."""
    rng = np.random.default_rng(spec["seed"])
    d, f, v = spec["hidden_size"], spec["intermediate_size"], spec["vocab_size"]
    nh, nkv = spec["num_attention_heads"], spec["num_key_value_heads"]
    hd = d // nh
    n_layers = spec["num_hidden_layers"]
    out_scale = 2.0 / np.sqrt(2 * n_layers)
    w = {"model.embed_tokens.weight": rng.normal(0, 0.4, (v, d)), "model.norm.weight": 1 + rng.normal(0, 0.1, d)}
    for L in range(n_layers):
        p = f"model.layers.{L}."
        w[p + "input_layernorm.weight"] = 1 + rng.normal(0, 0.1, d)
        w[p + "post_attention_layernorm.weight"] = 1 + rng.normal(0, 0.1, d)
        w[p + "self_attn.q_proj.weight"] = rng.normal(0, 1 / np.sqrt(d), (nh * hd, d))
        w[p + "self_attn.q_proj.bias"] = rng.normal(0, 0.3, nh * hd)
        w[p + "self_attn.k_proj.weight"] = rng.normal(0, 1 / np.sqrt(d), (nkv * hd, d))
        w[p + "self_attn.k_proj.bias"] = rng.normal(0, 0.3, nkv * hd)
        w[p + "self_attn.v_proj.weight"] = rng.normal(0, 1 / np.sqrt(d), (nkv * hd, d))
        w[p + "self_attn.v_proj.bias"] = rng.normal(0, 0.3, nkv * hd)
        w[p + "self_attn.o_proj.weight"] = rng.normal(0, out_scale / np.sqrt(d), (d, nh * hd))
        w[p + "mlp.gate_proj.weight"] = rng.normal(0, 1 / np.sqrt(d), (f, d))
        w[p + "mlp.up_proj.weight"] = rng.normal(0, 1 / np.sqrt(d), (f, d))
        w[p + "mlp.down_proj.weight"] = rng.normal(0, out_scale / np.sqrt(f), (d, f))
    if not spec["tie_word_embeddings"]:
        w["lm_head.weight"] = rng.normal(0, 1 / np.sqrt(d), (v, d))
    return w


def write_model(folder, spec, weights):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(hf_config(spec), f, indent=2)
    stored = {k: st.as_stored(val, spec["dtype"]) for k, val in weights.items()}
    st.write(os.path.join(folder, "model.safetensors"), stored, {"format": "pt"})
    # read back exactly what the runtime will read (bf16-rounded), as float64
    return {k: s.f64() for k, s in st.read(os.path.join(folder, "model.safetensors")).items()}


def f32(x):
    return st.as_stored(x, "F32")


def dump_forward(folder, cfg, W, seq_len, rng):
    ids = rng.integers(0, cfg["vocab_size"], seq_len)
    probe = min(PROBE_LAYER, cfg["num_hidden_layers"] - 1)
    keep = lambda name: name.endswith("hook_resid_post") or name.startswith(f"blocks.{probe}.") or name in (
        "hook_embed", "ln_final.hook_normalized")
    logits, hooks = ref.forward_one(cfg, W, ids, keep=keep)
    out = {"input_ids": st.as_stored(ids[None], "I32"), "logits": f32(logits[None])}
    for name, value in hooks.items():
        if name.endswith("hook_attn_scores"):
            continue  # -inf entries: compared through hook_pattern instead
        out[name] = f32(value)
    st.write(os.path.join(folder, f"expected-seq{seq_len}.safetensors"), out, {"probe_layer": str(probe)})


def dump_padding(folder, cfg, W, rng):
    lengths = [7, 3, 5, 1]
    width = max(lengths)
    ids = np.zeros((len(lengths), width), dtype=np.int64)
    mask = np.zeros((len(lengths), width), dtype=np.int64)
    last = f"blocks.{cfg['num_hidden_layers'] - 1}.hook_resid_post"
    alone_logits = np.zeros((len(lengths), width, cfg["vocab_size"]))
    alone_resid = np.zeros((len(lengths), width, cfg["hidden_size"]))
    for i, n in enumerate(lengths):
        seq = rng.integers(2, cfg["vocab_size"], n)
        ids[i, width - n:] = seq
        mask[i, width - n:] = 1
        logits, hooks = ref.forward_one(cfg, W, seq, keep=lambda name: name == last)
        alone_logits[i, width - n:] = logits
        alone_resid[i, width - n:] = hooks[last][0]
        # the padded computation must agree with the lone one at real positions (checks the semantics here)
        padded_logits, _ = ref.forward_one(cfg, W, ids[i], mask=mask[i], keep=lambda name: False)
        assert np.allclose(padded_logits[width - n:], logits, rtol=1e-10, atol=1e-10)
    st.write(os.path.join(folder, "padding.safetensors"), {
        "input_ids": st.as_stored(ids, "I32"), "attention_mask": st.as_stored(mask, "I32"),
        "logits": f32(alone_logits), last: f32(alone_resid)}, {"pad_token_id": "0"})


def dump_greedy(folder, cfg, W, rng):
    prompt = rng.integers(2, cfg["vocab_size"], 5)
    free, _ = ref.greedy(cfg, W, prompt, 12)
    stop = next((t for j, t in enumerate(free) if j >= 3 and t not in free[:j]), None)
    with open(os.path.join(folder, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": 0, "eos_token_id": [1, int(stop)] if stop is not None else 1,
                   "do_sample": False}, f, indent=2)
    stop_ids = (1,) if stop is None else (1, int(stop))
    tokens, step_logits = ref.greedy(cfg, W, prompt, 12, stop_ids)
    st.write(os.path.join(folder, "greedy.safetensors"), {
        "prompt": st.as_stored(prompt, "I32"), "free_tokens": st.as_stored(np.array(free), "I32"),
        "tokens": st.as_stored(np.array(tokens), "I32"), "step_logits": f32(step_logits)})


LORAS = {
    # name: (base case, adapter_config overrides, default rank)
    "lora-basic": ("gqa-tied-bf16", dict(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "down_proj"])),
    "lora-rslora-patterns": ("mha-untied-f32", dict(
        r=8, lora_alpha=16, use_rslora=True,
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        rank_pattern={"model.layers.1.mlp.up_proj": 2, "o_proj": 3}, alpha_pattern={"k_proj": 5})),
}


def module_matches(name, targets):
    if isinstance(targets, str):
        import re
        return re.fullmatch(targets, name) is not None
    return any(name == t or name.endswith("." + t) for t in targets)


def pattern_value(patterns, name, default):
    import re
    for key, value in patterns.items():
        if re.match(rf"^(.*\.)?(?:{key})$", name):
            return value
    return default


def dump_lora(root, name, base_case, overrides, W_base, spec, rng):
    folder = os.path.join(root, name)
    os.makedirs(folder, exist_ok=True)
    config = {"peft_type": "LORA", "task_type": "CAUSAL_LM", "base_model_name_or_path": f"../{base_case}",
              "r": 8, "lora_alpha": 8, "lora_dropout": 0.0, "bias": "none", "fan_in_fan_out": False,
              "use_rslora": False, "use_dora": False, "rank_pattern": {}, "alpha_pattern": {},
              "modules_to_save": None, "layers_to_transform": None, "inference_mode": True}
    config.update(overrides)
    with open(os.path.join(folder, "adapter_config.json"), "w") as f:
        json.dump(config, f, indent=2)
    adapter, merged_w = {}, {k: v.copy() for k, v in W_base.items()}
    expected = {}
    for wname in sorted(W_base):
        if not wname.endswith(".weight") or "layers." not in wname or "norm" in wname:
            continue
        module = wname[: -len(".weight")]
        if not module_matches(module, config["target_modules"]):
            continue
        r = pattern_value(config["rank_pattern"], module, config["r"])
        alpha = pattern_value(config["alpha_pattern"], module, config["lora_alpha"])
        scale = alpha / np.sqrt(r) if config["use_rslora"] else alpha / r
        out_dim, in_dim = W_base[wname].shape
        A = st.bf16_bits_to_f64(st.f32_to_bf16_bits(rng.normal(0, 1 / np.sqrt(in_dim), (r, in_dim))))
        B = st.bf16_bits_to_f64(st.f32_to_bf16_bits(rng.normal(0, 0.5 / np.sqrt(r), (out_dim, r))))
        adapter[f"base_model.model.{module}.lora_A.weight"] = st.as_stored(A, spec["dtype"])
        adapter[f"base_model.model.{module}.lora_B.weight"] = st.as_stored(B, spec["dtype"])
        merged = W_base[wname] + scale * (B @ A)
        merged_stored = st.as_stored(merged, spec["dtype"])
        merged_w[wname] = merged_stored.f64()
        expected[wname] = f32(merged)  # exact merge in float64 (before casting to the stored dtype)
    st.write(os.path.join(folder, "adapter_model.safetensors"), adapter, {"format": "pt"})
    ids = rng.integers(0, spec["vocab_size"], 7)
    logits, _ = ref.forward_one(hf_config(spec), merged_w, ids, keep=lambda n: False)
    expected["input_ids"] = st.as_stored(ids[None], "I32")
    expected["logits"] = f32(logits[None])
    st.write(os.path.join(folder, "expected-merge.safetensors"), expected)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), "..", "..", "..", "packages", "runtime", "test", "fixtures", "qwen2")
    root = os.path.abspath(root)
    os.makedirs(root, exist_ok=True)
    manifest = {"cases": {}, "loras": {}, "probe_layer": PROBE_LAYER, "seq_lens": list(SEQ_LENS),
                "generator": "tools/reference/qwen2/make_fixtures.py"}
    bases = {}
    for case, spec in CASES.items():
        folder = os.path.join(root, case)
        W = write_model(folder, spec, random_weights(spec))
        cfg = hf_config(spec)
        bases[case] = (W, spec)
        rng = np.random.default_rng(100 + spec["seed"])
        for n in SEQ_LENS:
            dump_forward(folder, cfg, W, n, rng)
        manifest["cases"][case] = {"dtype": spec["dtype"], "tied": spec["tie_word_embeddings"],
                                   "gqa": spec["num_key_value_heads"] < spec["num_attention_heads"]}
        if case == "gqa-tied-bf16":
            dump_padding(folder, cfg, W, rng)
            dump_greedy(folder, cfg, W, rng)
    for name, (base_case, overrides) in LORAS.items():
        W, spec = bases[base_case]
        dump_lora(root, name, base_case, overrides, W, spec, np.random.default_rng(7))
        manifest["loras"][name] = {"base": base_case}
    with open(os.path.join(root, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    print("wrote", root)


if __name__ == "__main__":
    main()
