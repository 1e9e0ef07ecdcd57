"""Builds tiny random Llama / Mistral checkpoints as real Hugging Face folders and dumps float64-reference outputs.

Run: /usr/bin/python3 tools/reference/llama/make_fixtures.py [OUT_DIR]
(default OUT_DIR: packages/runtime/test/fixtures/llama). Deterministic: fixed numpy seeds.

Each case exercises quirks (see CASES): GQA ratios 2 and 4 and MHA, tied and untied, head_dim given by the config
(≠ hidden/heads), RoPE scaling llama3 (every branch: a high-frequency pair unchanged, a medium one smoothed, low ones
divided), linear, and dynamic NTK at a sequence beyond max_position_embeddings (40 > 32), bf16 and f32 weights.
`ablated.<quirk>` logits in expected-seq40: the same forward with that quirk off (rope_scaling: plain RoPE;
gqa: query head h reads kv head h % n_kv instead of h // group; tied: lm_head.weight ignored, embedding used).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixtures  # noqa: E402
import llama_ref as ref  # noqa: E402

LLAMA3 = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
          "original_max_position_embeddings": 32}
CASES = {
    # head_dim 16: wavelengths 2pi*10000^(k/8) = 6.3 (< 32/4: kept), 19.9 (between 8 and 32: smoothed), 62.8+ (/8)
    "llama3-gqa-tied-bf16": dict(vocab_size=96, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                 num_key_value_heads=2, head_dim=16, intermediate_size=48, rope_theta=10000.0,
                                 rope_scaling=LLAMA3, max_position_embeddings=128, rms_norm_eps=1e-5,
                                 tie_word_embeddings=True, dtype="BF16", seed=11),
    "dynamic-gqa-untied-f32": dict(vocab_size=80, hidden_size=48, num_hidden_layers=2, num_attention_heads=6,
                                   num_key_value_heads=2, intermediate_size=64, rope_theta=10000.0,
                                   rope_scaling={"type": "dynamic", "factor": 2.0}, max_position_embeddings=32,
                                   rms_norm_eps=1e-6, tie_word_embeddings=False, dtype="F32", seed=12),
    "linear-mha-untied-bf16": dict(vocab_size=64, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                   num_key_value_heads=4, intermediate_size=40, rope_theta=500000.0,
                                   rope_scaling={"rope_type": "linear", "factor": 4.0}, max_position_embeddings=64,
                                   rms_norm_eps=1e-5, tie_word_embeddings=False, dtype="BF16", seed=13),
    "mistral-gqa-tied-f32": dict(model_type="mistral", vocab_size=72, hidden_size=32, num_hidden_layers=2,
                                 num_attention_heads=8, num_key_value_heads=2, intermediate_size=56,
                                 rope_theta=1000000.0, max_position_embeddings=128, rms_norm_eps=1e-5,
                                 tie_word_embeddings=True, dtype="F32", seed=14),
}


def hf_config(spec):
    mistral = spec.get("model_type") == "mistral"
    cfg = {
        "architectures": ["MistralForCausalLM" if mistral else "LlamaForCausalLM"],
        "model_type": "mistral" if mistral else "llama",
        "vocab_size": spec["vocab_size"],
        "hidden_size": spec["hidden_size"],
        "intermediate_size": spec["intermediate_size"],
        "num_hidden_layers": spec["num_hidden_layers"],
        "num_attention_heads": spec["num_attention_heads"],
        "num_key_value_heads": spec["num_key_value_heads"],
        "hidden_act": "silu",
        "max_position_embeddings": spec["max_position_embeddings"],
        "rms_norm_eps": spec["rms_norm_eps"],
        "rope_theta": spec["rope_theta"],
        "rope_scaling": spec.get("rope_scaling"),
        "tie_word_embeddings": spec["tie_word_embeddings"],
        "torch_dtype": "bfloat16" if spec["dtype"] == "BF16" else "float32",
        "attention_dropout": 0.0,
        "bos_token_id": 0,
        "eos_token_id": 1,
    }
    if mistral:
        cfg["sliding_window"] = None
    else:
        cfg.update(attention_bias=False, mlp_bias=False, pretraining_tp=1)
    if spec.get("head_dim"):
        cfg["head_dim"] = spec["head_dim"]
    return cfg


def forward(cfg, W, ids, keep):
    return ref.forward_one(cfg, W, ids, keep=keep)


def ablations_of(spec):
    out = {}
    if spec.get("rope_scaling"):
        out["rope_scaling"] = lambda cfg, W, ids, keep: ref.forward_one({**cfg, "rope_scaling": None}, W, ids, keep)
    if spec["num_key_value_heads"] < spec["num_attention_heads"]:
        n_kv = spec["num_key_value_heads"]
        out["gqa"] = lambda cfg, W, ids, keep: ref.forward_one(cfg, W, ids, keep, kv_map=lambda h, g: h % n_kv)
    if not spec["tie_word_embeddings"]:
        out["untied"] = lambda cfg, W, ids, keep: ref.forward_one({**cfg, "tie_word_embeddings": True}, W, ids, keep)
    return out


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), "..", "..", "..", "packages", "runtime", "test", "fixtures", "llama")
    fixtures.write_cases(root, CASES, hf_config, forward, ablations_of, False,
                         "tools/reference/llama/make_fixtures.py")


if __name__ == "__main__":
    main()
