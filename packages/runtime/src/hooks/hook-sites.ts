/**
 * Hook sites: the names, shapes and meaning of every hook point a family's forward pass offers (TransformerLens
 * names). Neutral: families import this file, and hooks/hook-table.ts resolves a config's family to its table.
 */
import { HookError } from "../errors.ts";
/** Named dimensions of hook tensors. `pos` = query positions of this call, `keyPos` = all keys seen (cache + new). */
export type HookDim = "batch" | "pos" | "keyPos" | "dModel" | "nHeads" | "nKvHeads" | "dHead" | "dMlp";

export interface HookSite {
  /** TransformerLens name; `{L}` stands for the layer index in block sites. */
  readonly template: string;
  readonly scope: "model" | "block";
  /** Shape by dimension name, batch first. */
  readonly dims: readonly HookDim[];
  /** Where it is computed. */
  readonly doc: string;
}

/**
 * The decoder hook table (DESIGN §4) every Llama-like family shares: every hook point in the order the forward pass
 * reaches it within a block (Qwen2's table exactly; families/qwen2/qwen2-forward.ts calls `hooks.run(name, tensor)`
 * at these places). A family with more sites (Gemma's post-norms, Qwen3's q/k norms) builds its table from this one
 * with `insertHookSites`. Model-scope sites before the first block site run before the blocks, those after it after.
 */
export const DECODER_HOOK_SITES: readonly HookSite[] = Object.freeze([
  { template: "hook_embed", scope: "model", dims: ["batch", "pos", "dModel"], doc: "token embeddings (gathered rows)" },
  {
    template: "blocks.{L}.hook_resid_pre",
    scope: "block",
    dims: ["batch", "pos", "dModel"],
    doc: "residual stream entering the block",
  },
  {
    template: "blocks.{L}.ln1.hook_normalized",
    scope: "block",
    dims: ["batch", "pos", "dModel"],
    doc: "input_layernorm output (RMSNorm × weight)",
  },
  {
    template: "blocks.{L}.attn.hook_q",
    scope: "block",
    dims: ["batch", "pos", "nHeads", "dHead"],
    doc: "q_proj(x) (+ bias where the family has one), before RoPE",
  },
  {
    template: "blocks.{L}.attn.hook_k",
    scope: "block",
    dims: ["batch", "pos", "nKvHeads", "dHead"],
    doc: "k_proj(x) (+ bias), before RoPE, key/value heads as stored (no GQA repetition)",
  },
  {
    template: "blocks.{L}.attn.hook_v",
    scope: "block",
    dims: ["batch", "pos", "nKvHeads", "dHead"],
    doc: "v_proj(x) (+ bias), key/value heads as stored",
  },
  {
    template: "blocks.{L}.attn.hook_rot_q",
    scope: "block",
    dims: ["batch", "pos", "nHeads", "dHead"],
    doc: "queries after RoPE",
  },
  {
    template: "blocks.{L}.attn.hook_rot_k",
    scope: "block",
    dims: ["batch", "pos", "nKvHeads", "dHead"],
    doc: "keys after RoPE (what the KV cache stores)",
  },
  {
    template: "blocks.{L}.attn.hook_attn_scores",
    scope: "block",
    dims: ["batch", "nHeads", "pos", "keyPos"],
    doc: "q·k/√dHead, masked entries -Infinity",
  },
  {
    template: "blocks.{L}.attn.hook_pattern",
    scope: "block",
    dims: ["batch", "nHeads", "pos", "keyPos"],
    doc: "f32 softmax of the scores, per head",
  },
  {
    template: "blocks.{L}.attn.hook_z",
    scope: "block",
    dims: ["batch", "pos", "nHeads", "dHead"],
    doc: "pattern · v per head (input of o_proj)",
  },
  {
    template: "blocks.{L}.attn.hook_result",
    scope: "block",
    dims: ["batch", "pos", "nHeads", "dModel"],
    doc: "per-head o_proj output (computed only when hooked: one batched GEMM over heads)",
  },
  {
    template: "blocks.{L}.hook_attn_out",
    scope: "block",
    dims: ["batch", "pos", "dModel"],
    doc: "attention output (o_proj, no bias)",
  },
  {
    template: "blocks.{L}.hook_resid_mid",
    scope: "block",
    dims: ["batch", "pos", "dModel"],
    doc: "resid_pre + attn_out",
  },
  {
    template: "blocks.{L}.ln2.hook_normalized",
    scope: "block",
    dims: ["batch", "pos", "dModel"],
    doc: "post_attention_layernorm output",
  },
  {
    template: "blocks.{L}.mlp.hook_pre",
    scope: "block",
    dims: ["batch", "pos", "dMlp"],
    doc: "gate_proj(x), before SiLU",
  },
  { template: "blocks.{L}.mlp.hook_pre_linear", scope: "block", dims: ["batch", "pos", "dMlp"], doc: "up_proj(x)" },
  {
    template: "blocks.{L}.mlp.hook_post",
    scope: "block",
    dims: ["batch", "pos", "dMlp"],
    doc: "silu(gate) · up (input of down_proj)",
  },
  { template: "blocks.{L}.hook_mlp_out", scope: "block", dims: ["batch", "pos", "dModel"], doc: "down_proj output" },
  {
    template: "blocks.{L}.hook_resid_post",
    scope: "block",
    dims: ["batch", "pos", "dModel"],
    doc: "resid_mid + mlp_out",
  },
  {
    template: "ln_final.hook_normalized",
    scope: "model",
    dims: ["batch", "pos", "dModel"],
    doc: "final RMSNorm output (input of the unembedding)",
  },
] as const);

/**
 * `base` with `extra` sites inserted right after the site `after` (a template of `base`): how a family with more
 * hook points than the common decoder builds its table, e.g. Gemma's attention output before its post-norm.
 */
export function insertHookSites(
  base: readonly HookSite[],
  after: string,
  extra: readonly HookSite[],
): readonly HookSite[] {
  const i = base.findIndex((s) => s.template === after);
  if (i < 0)
    throw new HookError("BAD_ARGUMENT", `insertHookSites: no site "${after}" in the base table`, { got: after });
  return Object.freeze([...base.slice(0, i + 1), ...extra, ...base.slice(i + 1)]);
}
