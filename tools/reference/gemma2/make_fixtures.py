"""Builds tiny random Gemma 2 checkpoints as real Hugging Face folders and dumps float64-reference outputs.

Run: /usr/bin/python3 tools/reference/gemma2/make_fixtures.py [OUT_DIR]
(default OUT_DIR: packages/runtime/test/fixtures/gemma2). Deterministic: fixed numpy seeds. See gemma_fixtures.py
for the files written; the script asserts that every listed quirk moves the logits by > 1e-2 when switched off and
that both soft-caps bind (> 5% of the scores / logits beyond the cap).
"""
import os

from gemma_fixtures import main


def config(**over):
    base = {
        "architectures": ["Gemma2ForCausalLM"],
        "model_type": "gemma2",
        "hidden_activation": "gelu_pytorch_tanh",
        "max_position_embeddings": 64,
        "rms_norm_eps": 1e-6,
        "rope_theta": 10000.0,
        "attention_bias": False,
        "attention_dropout": 0.0,
        "pad_token_id": 0,
        "eos_token_id": 1,
        "bos_token_id": 2,
    }
    base.update(over)
    return base


CASES = {
    # GQA 4:2, head_dim 16 != hidden/heads (8), query_pre_attn_scalar 24 != head_dim, window 4 < 11 tokens on layers
    # 0 and 2, attention cap 2 and final cap 3 that bind, tied, bf16
    "gqa-tied-bf16": dict(dtype="BF16", seed=1, qk_gain=2.0, seq=11, config=config(
        vocab_size=96, hidden_size=32, intermediate_size=48, num_hidden_layers=3, num_attention_heads=4,
        num_key_value_heads=2, head_dim=16, query_pre_attn_scalar=24, sliding_window=4,
        attn_logit_softcapping=2.0, final_logit_softcapping=3.0, tie_word_embeddings=True, torch_dtype="bfloat16"),
        quirks=["embed_scale", "norm_offset", "post_norms", "gelu_tanh", "attn_softcap", "final_softcap",
                "sliding_window", "query_pre_attn_scalar", "gqa"]),
    # MHA, untied, f32, window 3, explicit layer_types (newer HF configs carry them)
    "mha-untied-f32": dict(dtype="F32", seed=2, qk_gain=2.5, seq=9, config=config(
        vocab_size=80, hidden_size=24, intermediate_size=40, num_hidden_layers=2, num_attention_heads=2,
        num_key_value_heads=2, head_dim=12, query_pre_attn_scalar=16, sliding_window=3,
        layer_types=["sliding_attention", "full_attention"],
        attn_logit_softcapping=1.5, final_logit_softcapping=2.5, tie_word_embeddings=False, torch_dtype="float32"),
        quirks=["embed_scale", "norm_offset", "post_norms", "attn_softcap", "final_softcap", "sliding_window",
                "query_pre_attn_scalar"]),
}

if __name__ == "__main__":
    main("gemma2", CASES, os.path.join(os.path.dirname(__file__), "..", "..", "..", "packages", "runtime", "test",
                                       "fixtures", "gemma2"))
