"""Independent float64 reference of the Qwen2 decoder (Qwen1.5 / Qwen2 / Qwen2.5), written from the
architecture definition (Hugging Face `modeling_qwen2.py` semantics), not from the TypeScript runtime.

Per layer:
    h   = x + o_proj(attn(rope(q_proj(rms1(x)) + bq), rope(k_proj(rms1(x)) + bk), v_proj(rms1(x)) + bv))
    out = h + down_proj(silu(gate_proj(rms2(h))) * up_proj(rms2(h)))
RMSNorm(x) = x / sqrt(mean(x^2) + eps) * w. RoPE: split halves, rotate_half(x) = [-x2, x1],
inv_freq_i = theta^(-2i/d). GQA: query head h reads key/value head h // (n_heads / n_kv_heads).
Left padding follows HF: position_ids = cumsum(mask) - 1 (pads get 1), pad keys are never attended by real queries.

Everything is float64 numpy; weights are read in their stored precision (bf16 widened exactly).
Hook names are TransformerLens names, each with a leading batch dimension.
"""
import numpy as np


def rms_norm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def silu(x):
    return x / (1.0 + np.exp(-x))


def rope(x, positions, theta):
    """x: [seq, heads, head_dim]; positions: [seq] ints."""
    d = x.shape[-1]
    inv_freq = 1.0 / (theta ** (np.arange(0, d, 2, dtype=np.float64) / d))
    angles = positions.astype(np.float64)[:, None] * inv_freq[None, :]  # [seq, d/2]
    cos = np.cos(np.concatenate([angles, angles], axis=-1))[:, None, :]
    sin = np.sin(np.concatenate([angles, angles], axis=-1))[:, None, :]
    half = d // 2
    rotated = np.concatenate([-x[..., half:], x[..., :half]], axis=-1)
    return x * cos + rotated * sin


def softmax(x):
    m = np.max(x, axis=-1, keepdims=True)
    e = np.exp(x - m)
    return e / np.sum(e, axis=-1, keepdims=True)


def linear(x, w, b=None):
    y = x @ w.T
    return y if b is None else y + b


def forward_one(cfg, W, ids, mask=None, positions=None, keep=None):
    """One sequence. ids: [seq]. mask: [seq] of 0/1 (left padding) or None. Returns (logits [seq, vocab], hooks).

    `keep(name)` decides which hooks are recorded (all by default)."""
    keep = keep or (lambda name: True)
    hooks = {}

    def rec(name, value):
        if keep(name):
            hooks[name] = value.copy()

    seq = len(ids)
    n_heads = cfg["num_attention_heads"]
    n_kv = cfg.get("num_key_value_heads", n_heads)
    d_model = cfg["hidden_size"]
    head_dim = cfg.get("head_dim", d_model // n_heads)
    group = n_heads // n_kv
    eps = cfg["rms_norm_eps"]
    theta = cfg.get("rope_theta", 10000.0)
    if mask is None:
        mask = np.ones(seq, dtype=np.int64)
    mask = np.asarray(mask)
    if positions is None:
        positions = np.cumsum(mask) - 1
        positions = np.where(mask == 0, 1, positions)

    x = W["model.embed_tokens.weight"][np.asarray(ids)]
    rec("hook_embed", x)
    # visible[i, j]: query i may read key j (causal; real queries skip pad keys, pad queries see only causally)
    causal = np.tril(np.ones((seq, seq), dtype=bool))
    visible = causal & ((mask[None, :] == 1) | (mask[:, None] == 0))
    for L in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{L}."
        b = f"blocks.{L}."
        rec(b + "hook_resid_pre", x)
        xn = rms_norm(x, W[p + "input_layernorm.weight"], eps)
        rec(b + "ln1.hook_normalized", xn)
        q = linear(xn, W[p + "self_attn.q_proj.weight"], W[p + "self_attn.q_proj.bias"]).reshape(seq, n_heads, head_dim)
        k = linear(xn, W[p + "self_attn.k_proj.weight"], W[p + "self_attn.k_proj.bias"]).reshape(seq, n_kv, head_dim)
        v = linear(xn, W[p + "self_attn.v_proj.weight"], W[p + "self_attn.v_proj.bias"]).reshape(seq, n_kv, head_dim)
        rec(b + "attn.hook_q", q)
        rec(b + "attn.hook_k", k)
        rec(b + "attn.hook_v", v)
        q = rope(q, positions, theta)
        k = rope(k, positions, theta)
        rec(b + "attn.hook_rot_q", q)
        rec(b + "attn.hook_rot_k", k)
        scores = np.empty((n_heads, seq, seq))
        pattern = np.empty((n_heads, seq, seq))
        z = np.empty((seq, n_heads, head_dim))
        for h in range(n_heads):
            kv = h // group
            s = q[:, h, :] @ k[:, kv, :].T / np.sqrt(head_dim)
            s = np.where(visible, s, -np.inf)
            scores[h] = s
            pattern[h] = softmax(s)
            z[:, h, :] = pattern[h] @ v[:, kv, :]
        rec(b + "attn.hook_attn_scores", scores)
        rec(b + "attn.hook_pattern", pattern)
        rec(b + "attn.hook_z", z)
        wo = W[p + "self_attn.o_proj.weight"]
        per_head = np.stack([z[:, h, :] @ wo[:, h * head_dim:(h + 1) * head_dim].T for h in range(n_heads)], axis=1)
        rec(b + "attn.hook_result", per_head)
        attn_out = z.reshape(seq, n_heads * head_dim) @ wo.T
        rec(b + "hook_attn_out", attn_out)
        x = x + attn_out
        rec(b + "hook_resid_mid", x)
        xn = rms_norm(x, W[p + "post_attention_layernorm.weight"], eps)
        rec(b + "ln2.hook_normalized", xn)
        gate = linear(xn, W[p + "mlp.gate_proj.weight"])
        up = linear(xn, W[p + "mlp.up_proj.weight"])
        rec(b + "mlp.hook_pre", gate)
        rec(b + "mlp.hook_pre_linear", up)
        act = silu(gate) * up
        rec(b + "mlp.hook_post", act)
        mlp_out = linear(act, W[p + "mlp.down_proj.weight"])
        rec(b + "hook_mlp_out", mlp_out)
        x = x + mlp_out
        rec(b + "hook_resid_post", x)
    xn = rms_norm(x, W["model.norm.weight"], eps)
    rec("ln_final.hook_normalized", xn)
    head = W.get("lm_head.weight")
    if head is None or cfg.get("tie_word_embeddings", False):
        head = W["model.embed_tokens.weight"]
    logits = xn @ head.T
    return logits, {k: v[None] for k, v in hooks.items()}


def greedy(cfg, W, prompt, max_new_tokens, stop_ids=()):
    """Greedy decoding by full recomputation each step. Returns (new tokens, per-step last-position logits)."""
    ids = list(prompt)
    new, step_logits = [], []
    for _ in range(max_new_tokens):
        logits, _ = forward_one(cfg, W, ids, keep=lambda name: False)
        last = logits[-1]
        step_logits.append(last)
        tok = int(np.argmax(last))
        new.append(tok)
        ids.append(tok)
        if tok in stop_ids:
            break
    return new, np.stack(step_logits)
