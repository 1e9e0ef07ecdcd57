"""Builds tiny random Gemma 3 (text) checkpoints as real Hugging Face folders and dumps float64-reference outputs.

Run: /usr/bin/python3 tools/reference/gemma3/make_fixtures.py [OUT_DIR]
(default OUT_DIR: packages/runtime/test/fixtures/gemma3). Deterministic. The forward and the fixture writer are
shared with Gemma 2 (tools/reference/gemma2/gemma_ref.py, gemma_fixtures.py): Gemma 3 is Gemma 2 plus q/k norms,
local/global RoPE bases, optional linear RoPE scaling on global layers and its own sliding pattern.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "gemma2"))
from gemma_fixtures import main  # noqa: E402


def config(**over):
    base = {
        "architectures": ["Gemma3ForCausalLM"],
        "model_type": "gemma3_text",
        "hidden_activation": "gelu_pytorch_tanh",
        "max_position_embeddings": 64,
        "rms_norm_eps": 1e-6,
        "rope_theta": 1000000.0,
        "rope_local_base_freq": 10000.0,
        "attention_bias": False,
        "attention_dropout": 0.0,
        "pad_token_id": 0,
        "eos_token_id": 1,
        "bos_token_id": 2,
    }
    base.update(over)
    return base


CASES = {
    # GQA 4:2, head_dim 16, query_pre_attn_scalar 20, sliding_window_pattern 3 (layers 0, 1 slide, 2 is global),
    # window 4 < 11, local base 1e4 vs global 1e6 with linear RoPE scaling x4, no soft-caps (Gemma 3's default),
    # tied, bf16
    "gqa-tied-bf16": dict(dtype="BF16", seed=11, qk_gain=1.0, seq=11, config=config(
        vocab_size=112, hidden_size=32, intermediate_size=48, num_hidden_layers=3, num_attention_heads=4,
        num_key_value_heads=2, head_dim=16, query_pre_attn_scalar=20, sliding_window=4, sliding_window_pattern=3,
        rope_scaling={"rope_type": "linear", "factor": 4.0}, attn_logit_softcapping=None,
        final_logit_softcapping=None, tie_word_embeddings=True, eos_token_id=[1, 106], torch_dtype="bfloat16"),
        quirks=["embed_scale", "norm_offset", "post_norms", "gelu_tanh", "qk_norm", "local_rope_base", "rope_scaling",
                "sliding_window", "query_pre_attn_scalar", "gqa"]),
    # MHA, untied, f32, explicit layer_types (global first), both soft-caps configured (they bind), no rope scaling
    "mha-untied-f32": dict(dtype="F32", seed=12, qk_gain=1.0, seq=9, config=config(
        vocab_size=80, hidden_size=24, intermediate_size=40, num_hidden_layers=2, num_attention_heads=2,
        num_key_value_heads=2, head_dim=12, query_pre_attn_scalar=12, sliding_window=5,
        layer_types=["full_attention", "sliding_attention"], rope_scaling=None,
        attn_logit_softcapping=1.0, final_logit_softcapping=2.5, tie_word_embeddings=False, torch_dtype="float32"),
        quirks=["embed_scale", "norm_offset", "post_norms", "qk_norm", "local_rope_base", "attn_softcap",
                "final_softcap", "sliding_window"]),
}

if __name__ == "__main__":
    main("gemma3", CASES, os.path.join(os.path.dirname(__file__), "..", "..", "..", "packages", "runtime", "test",
                                       "fixtures", "gemma3"))
