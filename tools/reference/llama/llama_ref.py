"""Independent float64 reference of the Llama decoder (Llama 2 / 3 / 3.1 / 3.2 and Mistral-style configs without
sliding window), written from Hugging Face's documented behaviour (`modeling_llama.py`, `modeling_rope_utils.py`),
not from the TypeScript runtime.

Per layer (no biases anywhere):
    h   = x + o_proj(attn(rope(q_proj(rms1(x))), rope(k_proj(rms1(x))), v_proj(rms1(x))))
    out = h + down_proj(silu(gate_proj(rms2(h))) * up_proj(rms2(h)))
    logits = lm_head(rms_final(x))   (lm_head = embed_tokens when tied)
RMSNorm(x) = x / sqrt(mean(x^2) + eps) * w. RoPE: split halves, rotate_half(x) = [-x2, x1], angle = pos * inv_freq[i].
GQA: query head h reads key/value head h // (n_heads / n_kv_heads). head_dim from the config when present.

inv_freq by `rope_scaling` (HF accepts the key "rope_type" or the legacy "type"):
    default  inv_freq_i = theta^(-2i/d)
    linear   inv_freq / factor                                   (positions divided by factor)
    dynamic  (NTK) with L = max(position_ids) + 1 of the call and M = max_position_embeddings: when L > M,
             theta' = theta * (factor * L / M - (factor - 1)) ^ (d / (d - 2)), inv_freq from theta'; else default.
             (HF's module caches the grown frequencies across calls; this reference is per call, as a fresh model.)
    llama3   wavelen = 2 pi / inv_freq; with lo = orig / low_freq_factor, hi = orig / high_freq_factor:
             wavelen < hi: unchanged; wavelen > lo: inv_freq / factor;
             else smooth s = (orig / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor),
             inv_freq' = (1 - s) * inv_freq / factor + s * inv_freq.
All four keep the attention scaling at 1 (cos/sin unscaled).

Hook names are TransformerLens names, each with a leading batch dimension.
"""
import numpy as np


def rms_norm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def silu(x):
    return x / (1.0 + np.exp(-x))


def softmax(x):
    m = np.max(x, axis=-1, keepdims=True)
    e = np.exp(x - m)
    return e / np.sum(e, axis=-1, keepdims=True)


def head_dim_of(cfg):
    return cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]


def inv_freq(cfg, seq_len):
    """[head_dim / 2] float64 frequencies for a call whose largest position id is seq_len - 1."""
    d = head_dim_of(cfg)
    theta = float(cfg.get("rope_theta", 10000.0))
    scaling = cfg.get("rope_scaling") or {}
    kind = scaling.get("rope_type", scaling.get("type", "default"))
    exponents = np.arange(0, d, 2, dtype=np.float64) / d
    if kind == "default":
        return theta ** -exponents
    factor = float(scaling["factor"])
    if kind == "linear":
        return theta ** -exponents / factor
    if kind == "dynamic":
        m = cfg["max_position_embeddings"]
        if seq_len > m:
            theta = theta * (factor * seq_len / m - (factor - 1)) ** (d / (d - 2))
        return theta ** -exponents
    if kind == "llama3":
        base = theta ** -exponents
        orig = float(scaling["original_max_position_embeddings"])
        low, high = float(scaling["low_freq_factor"]), float(scaling["high_freq_factor"])
        wavelen = 2 * np.pi / base
        out = np.where(wavelen > orig / low, base / factor, base)
        smooth = (orig / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * base / factor + smooth * base
        medium = (wavelen >= orig / high) & (wavelen <= orig / low)
        return np.where(medium, smoothed, out)
    raise ValueError(f"rope_scaling type {kind!r} not in this reference")


def rope(x, positions, freqs):
    """x: [seq, heads, head_dim]; positions: [seq] ints; freqs: [head_dim / 2]."""
    angles = positions.astype(np.float64)[:, None] * freqs[None, :]  # [seq, d/2]
    cos = np.cos(np.concatenate([angles, angles], axis=-1))[:, None, :]
    sin = np.sin(np.concatenate([angles, angles], axis=-1))[:, None, :]
    half = x.shape[-1] // 2
    rotated = np.concatenate([-x[..., half:], x[..., :half]], axis=-1)
    return x * cos + rotated * sin


def forward_one(cfg, W, ids, keep=None, qk_norm=False, kv_map=None):
    """One sequence, ids [seq]. Returns (logits [seq, vocab], hooks).

    qk_norm: Qwen3's per-head RMSNorm of q and k before RoPE (q_norm / k_norm weights [head_dim]); the normed
    tensors are recorded as attn.hook_q_normed / attn.hook_k_normed. kv_map(h, group) overrides the GQA mapping
    (used only to prove the fixtures exercise it). keep(name) decides which hooks are recorded."""
    keep = keep or (lambda name: True)
    kv_map = kv_map or (lambda h, group: h // group)
    hooks = {}

    def rec(name, value):
        if keep(name):
            hooks[name] = value.copy()

    seq = len(ids)
    n_heads = cfg["num_attention_heads"]
    n_kv = cfg.get("num_key_value_heads") or n_heads
    hd = head_dim_of(cfg)
    group = n_heads // n_kv
    eps = cfg["rms_norm_eps"]
    positions = np.arange(seq)
    freqs = inv_freq(cfg, seq)
    causal = np.tril(np.ones((seq, seq), dtype=bool))

    x = W["model.embed_tokens.weight"][np.asarray(ids)]
    rec("hook_embed", x)
    for L in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{L}."
        b = f"blocks.{L}."
        rec(b + "hook_resid_pre", x)
        xn = rms_norm(x, W[p + "input_layernorm.weight"], eps)
        rec(b + "ln1.hook_normalized", xn)
        q = (xn @ W[p + "self_attn.q_proj.weight"].T).reshape(seq, n_heads, hd)
        k = (xn @ W[p + "self_attn.k_proj.weight"].T).reshape(seq, n_kv, hd)
        v = (xn @ W[p + "self_attn.v_proj.weight"].T).reshape(seq, n_kv, hd)
        rec(b + "attn.hook_q", q)
        rec(b + "attn.hook_k", k)
        rec(b + "attn.hook_v", v)
        if qk_norm:
            q = rms_norm(q, W[p + "self_attn.q_norm.weight"], eps)
            k = rms_norm(k, W[p + "self_attn.k_norm.weight"], eps)
            rec(b + "attn.hook_q_normed", q)
            rec(b + "attn.hook_k_normed", k)
        q = rope(q, positions, freqs)
        k = rope(k, positions, freqs)
        rec(b + "attn.hook_rot_q", q)
        rec(b + "attn.hook_rot_k", k)
        scores = np.empty((n_heads, seq, seq))
        pattern = np.empty((n_heads, seq, seq))
        z = np.empty((seq, n_heads, hd))
        for h in range(n_heads):
            kv = kv_map(h, group)
            scores[h] = np.where(causal, q[:, h, :] @ k[:, kv, :].T / np.sqrt(hd), -np.inf)
            pattern[h] = softmax(scores[h])
            z[:, h, :] = pattern[h] @ v[:, kv, :]
        rec(b + "attn.hook_attn_scores", scores)  # masked entries -inf, as the runtime's hook sees them
        rec(b + "attn.hook_pattern", pattern)
        rec(b + "attn.hook_z", z)
        wo = W[p + "self_attn.o_proj.weight"]
        per_head = np.stack([z[:, h, :] @ wo[:, h * hd:(h + 1) * hd].T for h in range(n_heads)], axis=1)
        rec(b + "attn.hook_result", per_head)
        attn_out = z.reshape(seq, n_heads * hd) @ wo.T
        rec(b + "hook_attn_out", attn_out)
        x = x + attn_out
        rec(b + "hook_resid_mid", x)
        xn = rms_norm(x, W[p + "post_attention_layernorm.weight"], eps)
        rec(b + "ln2.hook_normalized", xn)
        gate = xn @ W[p + "mlp.gate_proj.weight"].T
        up = xn @ W[p + "mlp.up_proj.weight"].T
        rec(b + "mlp.hook_pre", gate)
        rec(b + "mlp.hook_pre_linear", up)
        act = silu(gate) * up
        rec(b + "mlp.hook_post", act)
        mlp_out = act @ W[p + "mlp.down_proj.weight"].T
        rec(b + "hook_mlp_out", mlp_out)
        x = x + mlp_out
        rec(b + "hook_resid_post", x)
    xn = rms_norm(x, W["model.norm.weight"], eps)
    rec("ln_final.hook_normalized", xn)
    head = W["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings", False) else W["lm_head.weight"]
    return xn @ head.T, {k: v[None] for k, v in hooks.items()}
