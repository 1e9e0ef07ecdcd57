"""Builds tiny random Qwen3 checkpoints as real Hugging Face folders and dumps float64-reference outputs.

Run: /usr/bin/python3 tools/reference/qwen3/make_fixtures.py [OUT_DIR]
(default OUT_DIR: packages/runtime/test/fixtures/qwen3). Deterministic: fixed numpy seeds.

Qwen3 (HF `modeling_qwen3.py`) is the Llama block (no q/k/v bias, GQA, SwiGLU, RMSNorm, split-halves RoPE) plus a
per-head RMSNorm of the queries and of the keys before RoPE:
    q = rope(rms(q_proj(x).view(seq, n_heads, head_dim), q_norm.weight [head_dim], eps))
    k = rope(rms(k_proj(x).view(seq, n_kv, head_dim),    k_norm.weight [head_dim], eps))
The forward is tools/reference/llama/llama_ref.py's with qk_norm=True (recorded as attn.hook_q_normed /
attn.hook_k_normed; attn.hook_q / hook_k stay the raw projections). HF's Qwen3Config defaults head_dim to 128 when
config.json omits it (not hidden/heads); every config here names head_dim, ≠ hidden/heads in the first case.

`ablated.<quirk>` logits in expected-seq40: qk_norm (no per-head norms), gqa (head h reads kv head h % n_kv),
untied (embedding used as the unembedding).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "llama"))
import fixtures  # noqa: E402
import llama_ref as ref  # noqa: E402

CASES = {
    "gqa-tied-bf16": dict(vocab_size=96, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                          num_key_value_heads=2, head_dim=16, intermediate_size=48, rope_theta=1000000.0,
                          max_position_embeddings=128, rms_norm_eps=1e-6, tie_word_embeddings=True, dtype="BF16",
                          seed=21),
    "gqa-untied-f32": dict(vocab_size=80, hidden_size=48, num_hidden_layers=3, num_attention_heads=6,
                           num_key_value_heads=2, head_dim=8, intermediate_size=64, rope_theta=10000.0,
                           max_position_embeddings=128, rms_norm_eps=1e-6, tie_word_embeddings=False, dtype="F32",
                           seed=22),
}


def hf_config(spec):
    return {
        "architectures": ["Qwen3ForCausalLM"],
        "model_type": "qwen3",
        "vocab_size": spec["vocab_size"],
        "hidden_size": spec["hidden_size"],
        "intermediate_size": spec["intermediate_size"],
        "num_hidden_layers": spec["num_hidden_layers"],
        "num_attention_heads": spec["num_attention_heads"],
        "num_key_value_heads": spec["num_key_value_heads"],
        "head_dim": spec["head_dim"],
        "hidden_act": "silu",
        "max_position_embeddings": spec["max_position_embeddings"],
        "rms_norm_eps": spec["rms_norm_eps"],
        "rope_theta": spec["rope_theta"],
        "rope_scaling": None,
        "attention_bias": False,
        "use_sliding_window": False,
        "sliding_window": None,
        "tie_word_embeddings": spec["tie_word_embeddings"],
        "torch_dtype": "bfloat16" if spec["dtype"] == "BF16" else "float32",
        "attention_dropout": 0.0,
        "bos_token_id": 0,
        "eos_token_id": 1,
    }


def forward(cfg, W, ids, keep):
    return ref.forward_one(cfg, W, ids, keep=keep, qk_norm=True)


def ablations_of(spec):
    out = {"qk_norm": lambda cfg, W, ids, keep: ref.forward_one(cfg, W, ids, keep, qk_norm=False)}
    if spec["num_key_value_heads"] < spec["num_attention_heads"]:
        n_kv = spec["num_key_value_heads"]
        out["gqa"] = lambda cfg, W, ids, keep: ref.forward_one(cfg, W, ids, keep, qk_norm=True,
                                                               kv_map=lambda h, g: h % n_kv)
    if not spec["tie_word_embeddings"]:
        out["untied"] = lambda cfg, W, ids, keep: ref.forward_one({**cfg, "tie_word_embeddings": True}, W, ids, keep,
                                                                  qk_norm=True)
    return out


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), "..", "..", "..", "packages", "runtime", "test", "fixtures", "qwen3")
    fixtures.write_cases(root, CASES, hf_config, forward, ablations_of, True,
                         "tools/reference/qwen3/make_fixtures.py")


if __name__ == "__main__":
    main()
