import { nearest } from "@difflens/common";
import type { Qwen2Config } from "../config/qwen2-config.ts";
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
 * THE hook table (DESIGN §4): every hook point, in the order the forward pass reaches it within a block.
 * The forward pass in `architectures/qwen2.ts` calls `hooks.run(name, tensor)` at exactly these places.
 */
export const HOOK_SITES: readonly HookSite[] = Object.freeze([
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
    doc: "q_proj(x) + bias, before RoPE",
  },
  {
    template: "blocks.{L}.attn.hook_k",
    scope: "block",
    dims: ["batch", "pos", "nKvHeads", "dHead"],
    doc: "k_proj(x) + bias, before RoPE, key/value heads as stored (no GQA repetition)",
  },
  {
    template: "blocks.{L}.attn.hook_v",
    scope: "block",
    dims: ["batch", "pos", "nKvHeads", "dHead"],
    doc: "v_proj(x) + bias, key/value heads as stored",
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

export interface ParsedHookName {
  readonly name: string;
  readonly site: HookSite;
  /** Layer index for block sites, -1 before the blocks (hook_embed), nLayers after them (ln_final). */
  readonly layer: number;
  /** Position in forward order (comparable across names of one model). */
  readonly order: number;
}

function siteIndex(template: string): number {
  return HOOK_SITES.findIndex((s) => s.template === template);
}

const BLOCK_SITES = HOOK_SITES.filter((s) => s.scope === "block");

/** Every hook name of a model, in forward order. */
export function hookNames(config: Pick<Qwen2Config, "nLayers">): string[] {
  const names = ["hook_embed"];
  for (let L = 0; L < config.nLayers; L++)
    for (const s of BLOCK_SITES) names.push(s.template.replace("{L}", String(L)));
  names.push("ln_final.hook_normalized");
  return names;
}

/** Parses and validates a hook name; unknown names throw `UNKNOWN_HOOK` with the nearest valid name. */
export function parseHookName(name: string, config: Pick<Qwen2Config, "nLayers">): ParsedHookName {
  const perBlock = BLOCK_SITES.length;
  if (name === "hook_embed") return { name, site: HOOK_SITES[0]!, layer: -1, order: 0 };
  if (name === "ln_final.hook_normalized") {
    return { name, site: HOOK_SITES[siteIndex(name)]!, layer: config.nLayers, order: 1 + config.nLayers * perBlock };
  }
  const m = /^blocks\.(\d+)\.(.+)$/.exec(name);
  if (m) {
    const layer = Number(m[1]);
    const k = BLOCK_SITES.findIndex((s) => s.template === `blocks.{L}.${m[2]}`);
    if (k >= 0 && layer < config.nLayers)
      return { name, site: BLOCK_SITES[k]!, layer, order: 1 + layer * perBlock + k };
  }
  const suggestion = nearest(name, hookNames(config));
  throw new HookError(
    "UNKNOWN_HOOK",
    `unknown hook "${name}"${suggestion ? ` — did you mean "${suggestion}"?` : ""} (model has ${config.nLayers} layers; list them with: difflens-forward --model DIR --list-hooks)`,
    { got: name, suggestion },
  );
}

export interface HookShapeContext {
  batch: number;
  /** Query positions in this call. */
  pos: number;
  /** Keys visible to attention (past cache + pos). Defaults to pos. */
  keyPos?: number;
}

/** The concrete shape of a hook tensor for a call. */
export function hookShape(site: HookSite, config: Qwen2Config, ctx: HookShapeContext): number[] {
  const size: Record<HookDim, number> = {
    batch: ctx.batch,
    pos: ctx.pos,
    keyPos: ctx.keyPos ?? ctx.pos,
    dModel: config.dModel,
    nHeads: config.nHeads,
    nKvHeads: config.nKvHeads,
    dHead: config.dHead,
    dMlp: config.dMlp,
  };
  return site.dims.map((d) => size[d]);
}
