/**
 * Gemma's hook table: the common decoder table (TransformerLens names) with Gemma's meanings, plus the sites Gemma
 * has that Qwen2 lacks. As in TransformerLens, `hook_attn_out` / `hook_mlp_out` are AFTER the block's post-norms
 * (what is added to the residual stream); the raw o_proj / down_proj outputs are the extra `…_pre_norm` sites.
 * `ln1` is input_layernorm, `ln2` is pre_feedforward_layernorm (TransformerLens's ln1_post / ln2_post outputs are
 * hook_attn_out / hook_mlp_out here). Gemma 3 adds `attn.hook_q_normed` / `attn.hook_k_normed` (after its per-head
 * q/k norms, before RoPE), named as Qwen3's.
 */
import { DECODER_HOOK_SITES, type HookSite, insertHookSites } from "../../hooks/hook-sites.ts";

/** Gemma's meaning of the common sites whose doc differs from Qwen2's. */
const GEMMA_DOCS: Readonly<Record<string, string>> = {
  hook_embed: "token embeddings × √dModel (Gemma's normalizer, computed in f32)",
  "blocks.{L}.ln1.hook_normalized": "input_layernorm output (RMSNorm × (1 + w))",
  "blocks.{L}.attn.hook_q": "q_proj(x), before RoPE (no bias)",
  "blocks.{L}.attn.hook_k": "k_proj(x), before RoPE, key/value heads as stored (no GQA repetition)",
  "blocks.{L}.attn.hook_v": "v_proj(x), key/value heads as stored",
  "blocks.{L}.attn.hook_attn_scores":
    "q·k · query_pre_attn_scalar^−½, soft-capped (cap·tanh(s/cap)) when attn_logit_softcapping is set, then masked (-Infinity; sliding layers also beyond the window)",
  "blocks.{L}.attn.hook_result":
    "per-head o_proj output, before the post-norm (sums to hook_attn_out_pre_norm; computed only when hooked)",
  "blocks.{L}.hook_attn_out":
    "attention output after post_attention_layernorm (what the residual adds; as TransformerLens)",
  "blocks.{L}.hook_resid_mid": "resid_pre + attn_out (post-normed)",
  "blocks.{L}.ln2.hook_normalized": "pre_feedforward_layernorm output",
  "blocks.{L}.mlp.hook_pre": "gate_proj(x), before the tanh GELU",
  "blocks.{L}.mlp.hook_post": "gelu_tanh(gate) · up (input of down_proj)",
  "blocks.{L}.hook_mlp_out": "MLP output after post_feedforward_layernorm (what the residual adds; as TransformerLens)",
  "blocks.{L}.hook_resid_post": "resid_mid + mlp_out (post-normed)",
  "ln_final.hook_normalized": "final RMSNorm × (1 + w) output (input of the unembedding and the final soft-cap)",
};

const ATTN_OUT_PRE_NORM: HookSite = {
  template: "blocks.{L}.hook_attn_out_pre_norm",
  scope: "block",
  dims: ["batch", "pos", "dModel"],
  doc: "o_proj output before post_attention_layernorm (Gemma only)",
};

const MLP_OUT_PRE_NORM: HookSite = {
  template: "blocks.{L}.hook_mlp_out_pre_norm",
  scope: "block",
  dims: ["batch", "pos", "dModel"],
  doc: "down_proj output before post_feedforward_layernorm (Gemma only)",
};

const QK_NORMED: readonly HookSite[] = [
  {
    template: "blocks.{L}.attn.hook_q_normed",
    scope: "block",
    dims: ["batch", "pos", "nHeads", "dHead"],
    doc: "queries after q_norm (per-head RMSNorm × (1 + w)), before RoPE (Gemma 3)",
  },
  {
    template: "blocks.{L}.attn.hook_k_normed",
    scope: "block",
    dims: ["batch", "pos", "nKvHeads", "dHead"],
    doc: "keys after k_norm, before RoPE (Gemma 3)",
  },
];

function gemmaTable(qkNorm: boolean): readonly HookSite[] {
  let sites: readonly HookSite[] = DECODER_HOOK_SITES.map((s) =>
    Object.freeze({ ...s, doc: GEMMA_DOCS[s.template] ?? s.doc }),
  );
  sites = insertHookSites(sites, "blocks.{L}.attn.hook_result", [ATTN_OUT_PRE_NORM]);
  sites = insertHookSites(sites, "blocks.{L}.mlp.hook_post", [MLP_OUT_PRE_NORM]);
  if (qkNorm) sites = insertHookSites(sites, "blocks.{L}.attn.hook_v", QK_NORMED);
  return sites;
}

export const GEMMA2_HOOK_SITES: readonly HookSite[] = gemmaTable(false);
export const GEMMA3_HOOK_SITES: readonly HookSite[] = gemmaTable(true);
