"""Independent float64 reference of the Gemma 2 and Gemma 3 (text) decoders, written from the documented behaviour of
Hugging Face's `modeling_gemma2.py` / `modeling_gemma3.py` (Gemma2ForCausalLM, Gemma3ForCausalLM), not from the
TypeScript runtime.

    x = embed[ids] * sqrt(hidden_size)                       (HF rounds the normalizer to the activation dtype)
    per layer L:
        a   = o_proj(attention(x_n = rms(x; input_layernorm)))
        x   = x + rms(a; post_attention_layernorm)
        m   = down_proj(gelu_tanh(gate_proj(rms(x; pre_feedforward_layernorm))) * up_proj(...))
        x   = x + rms(m; post_feedforward_layernorm)
    logits = softcap(rms(x; norm) @ embed.T, final_logit_softcapping)

RMSNorm(x; w) = x / sqrt(mean(x^2) + eps) * (1 + w)   (the stored weight is an offset from 1)
attention: q, k, v = proj(x_n) per head; Gemma 3 only: q, k = RMSNorm per head ((1 + w), weights [head_dim]);
    q, k = rope(q), rope(k)  (split halves; Gemma 3: sliding layers use rope_local_base_freq, full layers rope_theta
    with optional linear rope_scaling = inv_freq / factor; Gemma 2: rope_theta everywhere)
    s = q.k * query_pre_attn_scalar^-1/2;  s = cap * tanh(s / cap) when attn_logit_softcapping is set;
    then the causal mask (sliding layers also: key j visible to query i only if i - j < sliding_window); softmax.
    Query head h reads key/value head h // (n_heads / n_kv_heads).
sliding layers: Gemma 2 — even layers (0, 2, ...) slide, odd ones are global (HF: layer_types
    "sliding_attention" iff (i + 1) % 2); Gemma 3 — `layer_types` when given, else sliding iff
    (i + 1) % sliding_window_pattern != 0 (pattern 6: layers 5, 11, ... are global).

`off` switches one quirk off (for the fixture script's self-check that every quirk changes the output).
Hook names are TransformerLens names (see the runtime's Gemma hook table), each with a leading batch dimension.
"""
import numpy as np
from scipy.special import erf

QUIRKS = ("embed_scale", "norm_offset", "post_norms", "gelu_tanh", "attn_softcap", "final_softcap", "sliding_window",
          "query_pre_attn_scalar", "qk_norm", "local_rope_base", "rope_scaling", "gqa")


def rms_norm(x, w, eps, offset=True):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * ((1.0 + w) if offset else w)


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x ** 3)))


def gelu_erf(x):
    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))


def softcap(x, cap):
    return cap * np.tanh(x / cap)


def rope(x, positions, inv_freq):
    """x: [seq, heads, head_dim]; positions: [seq] ints; inv_freq: [head_dim / 2]."""
    angles = positions.astype(np.float64)[:, None] * inv_freq[None, :]  # [seq, d/2]
    cos = np.cos(np.concatenate([angles, angles], axis=-1))[:, None, :]
    sin = np.sin(np.concatenate([angles, angles], axis=-1))[:, None, :]
    half = x.shape[-1] // 2
    rotated = np.concatenate([-x[..., half:], x[..., :half]], axis=-1)
    return x * cos + rotated * sin


def softmax(x):
    m = np.max(x, axis=-1, keepdims=True)
    e = np.exp(x - m)
    return e / np.sum(e, axis=-1, keepdims=True)


def settings(cfg):
    """What the forward needs from an HF config dict (HF's class defaults where a key is absent)."""
    gemma3 = cfg["model_type"] == "gemma3_text"
    n = cfg["num_hidden_layers"]
    if "layer_types" in cfg:
        sliding = [t == "sliding_attention" for t in cfg["layer_types"]]
    elif gemma3:
        pattern = cfg.get("sliding_window_pattern", 6)
        sliding = [bool((i + 1) % pattern) for i in range(n)]
    else:
        sliding = [bool((i + 1) % 2) for i in range(n)]
    scaling = cfg.get("rope_scaling") or None
    return dict(
        gemma3=gemma3,
        n_heads=cfg["num_attention_heads"],
        n_kv=cfg["num_key_value_heads"],
        head_dim=cfg["head_dim"],
        eps=cfg.get("rms_norm_eps", 1e-6),
        scalar=cfg["query_pre_attn_scalar"],
        window=cfg["sliding_window"],
        sliding=sliding,
        attn_cap=cfg.get("attn_logit_softcapping", None if gemma3 else 50.0),
        final_cap=cfg.get("final_logit_softcapping", None if gemma3 else 30.0),
        theta=cfg.get("rope_theta", 1_000_000.0 if gemma3 else 10000.0),
        local_theta=cfg.get("rope_local_base_freq", 10000.0) if gemma3 else cfg.get("rope_theta", 10000.0),
        linear_factor=scaling["factor"] if scaling and scaling.get("rope_type", scaling.get("type")) == "linear" else None,
    )


def forward_one(cfg, W, ids, mask=None, keep=None, off=()):
    """One sequence. ids: [seq]; mask: [seq] of 0/1 (left padding) or None. Returns (logits [seq, vocab], hooks)."""
    for q in off:
        assert q in QUIRKS, q
    s = settings(cfg)
    keep = keep or (lambda name: True)
    hooks = {}

    def rec(name, value):
        if keep(name):
            hooks[name] = value.copy()

    seq = len(ids)
    nh, nkv, hd, eps = s["n_heads"], s["n_kv"], s["head_dim"], s["eps"]
    group = nh // nkv
    d_model = cfg["hidden_size"]
    offset = "norm_offset" not in off
    mask = np.ones(seq, dtype=np.int64) if mask is None else np.asarray(mask)
    positions = np.where(mask == 0, 1, np.cumsum(mask) - 1)  # HF generate's left-padding position ids

    def inv_freq(theta, factor=None):
        f = 1.0 / (theta ** (np.arange(0, hd, 2, dtype=np.float64) / hd))
        return f / factor if factor else f

    x = W["model.embed_tokens.weight"][np.asarray(ids)]
    if "embed_scale" not in off:
        x = x * np.sqrt(d_model)
    rec("hook_embed", x)
    i = np.arange(seq)[:, None]
    j = np.arange(seq)[None, :]
    # causal; real queries skip pad keys, pad queries see every earlier key (as the Qwen2 reference)
    visible = (j <= i) & ((mask[None, :] == 1) | (mask[:, None] == 0))
    for L in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{L}."
        b = f"blocks.{L}."
        sliding = s["sliding"][L]
        rec(b + "hook_resid_pre", x)
        xn = rms_norm(x, W[p + "input_layernorm.weight"], eps, offset)
        rec(b + "ln1.hook_normalized", xn)
        q = (xn @ W[p + "self_attn.q_proj.weight"].T).reshape(seq, nh, hd)
        k = (xn @ W[p + "self_attn.k_proj.weight"].T).reshape(seq, nkv, hd)
        v = (xn @ W[p + "self_attn.v_proj.weight"].T).reshape(seq, nkv, hd)
        rec(b + "attn.hook_q", q)
        rec(b + "attn.hook_k", k)
        rec(b + "attn.hook_v", v)
        if s["gemma3"]:
            if "qk_norm" not in off:
                q = rms_norm(q, W[p + "self_attn.q_norm.weight"], eps, offset)
                k = rms_norm(k, W[p + "self_attn.k_norm.weight"], eps, offset)
            rec(b + "attn.hook_q_normed", q)
            rec(b + "attn.hook_k_normed", k)
            if sliding and "local_rope_base" not in off:
                freqs = inv_freq(s["local_theta"])
            else:
                freqs = inv_freq(s["theta"], None if "rope_scaling" in off else s["linear_factor"])
        else:
            freqs = inv_freq(s["theta"])
        q = rope(q, positions, freqs)
        k = rope(k, positions, freqs)
        rec(b + "attn.hook_rot_q", q)
        rec(b + "attn.hook_rot_k", k)
        scale = (hd if "query_pre_attn_scalar" in off else s["scalar"]) ** -0.5
        vis = visible & (i - j < s["window"]) if sliding and "sliding_window" not in off else visible
        scores = np.empty((nh, seq, seq))
        pattern = np.empty((nh, seq, seq))
        z = np.empty((seq, nh, hd))
        for h in range(nh):
            kv = h % nkv if "gqa" in off else h // group  # "off": the wrong (interleaved) head mapping
            sc = q[:, h, :] @ k[:, kv, :].T * scale
            if s["attn_cap"] is not None and "attn_softcap" not in off:
                sc = softcap(sc, s["attn_cap"])
            sc = np.where(vis, sc, -np.inf)
            scores[h] = sc
            pattern[h] = softmax(sc)
            z[:, h, :] = pattern[h] @ v[:, kv, :]
        rec(b + "attn.hook_attn_scores", scores)
        rec(b + "attn.hook_pattern", pattern)
        rec(b + "attn.hook_z", z)
        wo = W[p + "self_attn.o_proj.weight"]
        per_head = np.stack([z[:, h, :] @ wo[:, h * hd:(h + 1) * hd].T for h in range(nh)], axis=1)
        rec(b + "attn.hook_result", per_head)
        attn = z.reshape(seq, nh * hd) @ wo.T
        rec(b + "hook_attn_out_pre_norm", attn)
        if "post_norms" not in off:
            attn = rms_norm(attn, W[p + "post_attention_layernorm.weight"], eps, offset)
        rec(b + "hook_attn_out", attn)
        x = x + attn
        rec(b + "hook_resid_mid", x)
        xn = rms_norm(x, W[p + "pre_feedforward_layernorm.weight"], eps, offset)
        rec(b + "ln2.hook_normalized", xn)
        gate = xn @ W[p + "mlp.gate_proj.weight"].T
        up = xn @ W[p + "mlp.up_proj.weight"].T
        rec(b + "mlp.hook_pre", gate)
        rec(b + "mlp.hook_pre_linear", up)
        act = (gelu_erf(gate) if "gelu_tanh" in off else gelu_tanh(gate)) * up
        rec(b + "mlp.hook_post", act)
        mlp = act @ W[p + "mlp.down_proj.weight"].T
        rec(b + "hook_mlp_out_pre_norm", mlp)
        if "post_norms" not in off:
            mlp = rms_norm(mlp, W[p + "post_feedforward_layernorm.weight"], eps, offset)
        rec(b + "hook_mlp_out", mlp)
        x = x + mlp
        rec(b + "hook_resid_post", x)
    xn = rms_norm(x, W["model.norm.weight"], eps, offset)
    rec("ln_final.hook_normalized", xn)
    head = W.get("lm_head.weight")
    if head is None or cfg.get("tie_word_embeddings", True):
        head = W["model.embed_tokens.weight"]
    logits = xn @ head.T
    if s["final_cap"] is not None and "final_softcap" not in off:
        logits = softcap(logits, s["final_cap"])
    return logits, {k: v[None] for k, v in hooks.items()}
