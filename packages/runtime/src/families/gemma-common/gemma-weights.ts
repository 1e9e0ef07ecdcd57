/**
 * The weight map of Gemma 2 and Gemma 3 (text): HF tensor names ↔ our fields. Four RMSNorms per block (stored as
 * w, applied as 1 + w by the forward), no biases, Gemma 3's per-head q/k norms ([dHead]), tied unembedding unless
 * the config unties it.
 */
import type { Tensor } from "@difflens/tensor";
import { checkSourceTensors, floatTensor, type TensorSource } from "../../tensor-source.ts";
import type { DecoderLayerWeights, DecoderWeights } from "../model-family.ts";
import type { GemmaConfig } from "./gemma-config.ts";

/** One block's weights, in their stored dtype. */
export interface GemmaLayerWeights extends DecoderLayerWeights {
  readonly inputNorm: Tensor; // [dModel] input_layernorm
  readonly qProj: Tensor; // [nHeads·dHead, dModel]
  readonly kProj: Tensor; // [nKvHeads·dHead, dModel]
  readonly vProj: Tensor; // [nKvHeads·dHead, dModel]
  /** Gemma 3 only (the forward applies q/k norms iff present). */
  readonly qNorm?: Tensor; // [dHead]
  readonly kNorm?: Tensor; // [dHead]
  readonly oProj: Tensor; // [dModel, nHeads·dHead]
  readonly postAttnNorm: Tensor; // [dModel] post_attention_layernorm (on the attention output)
  readonly preMlpNorm: Tensor; // [dModel] pre_feedforward_layernorm
  readonly postMlpNorm: Tensor; // [dModel] post_feedforward_layernorm (on the MLP output)
  readonly gateProj: Tensor; // [dMlp, dModel]
  readonly upProj: Tensor; // [dMlp, dModel]
  readonly downProj: Tensor; // [dModel, dMlp]
}

export interface GemmaWeights extends DecoderWeights {
  readonly layers: readonly GemmaLayerWeights[];
}

type LayerKey = keyof GemmaLayerWeights;

/** Gemma 3 has q/k norms; Gemma 2 does not. */
function hasQkNorm(c: GemmaConfig): boolean {
  return c.architecture === "gemma3";
}

/** HF tensor names of one layer, with their shapes. */
function layerSpecs(c: GemmaConfig, L: number): Array<[LayerKey, string, number[]]> {
  const p = `model.layers.${L}.`;
  const q = c.nHeads * c.dHead;
  const kv = c.nKvHeads * c.dHead;
  const d = c.dModel;
  return [
    ["inputNorm", `${p}input_layernorm.weight`, [d]],
    ["qProj", `${p}self_attn.q_proj.weight`, [q, d]],
    ["kProj", `${p}self_attn.k_proj.weight`, [kv, d]],
    ["vProj", `${p}self_attn.v_proj.weight`, [kv, d]],
    ...(hasQkNorm(c)
      ? ([
          ["qNorm", `${p}self_attn.q_norm.weight`, [c.dHead]],
          ["kNorm", `${p}self_attn.k_norm.weight`, [c.dHead]],
        ] as Array<[LayerKey, string, number[]]>)
      : []),
    ["oProj", `${p}self_attn.o_proj.weight`, [d, q]],
    ["postAttnNorm", `${p}post_attention_layernorm.weight`, [d]],
    ["preMlpNorm", `${p}pre_feedforward_layernorm.weight`, [d]],
    ["postMlpNorm", `${p}post_feedforward_layernorm.weight`, [d]],
    ["gateProj", `${p}mlp.gate_proj.weight`, [c.dMlp, d]],
    ["upProj", `${p}mlp.up_proj.weight`, [c.dMlp, d]],
    ["downProj", `${p}mlp.down_proj.weight`, [d, c.dMlp]],
  ];
}

/** Every HF tensor name a Gemma checkpoint needs (lm_head.weight only when untied) with its shape. */
export function gemmaWeightShapes(c: GemmaConfig): Map<string, number[]> {
  const out = new Map<string, number[]>();
  out.set("model.embed_tokens.weight", [c.vocabSize, c.dModel]);
  for (let L = 0; L < c.nLayers; L++) for (const [, name, shape] of layerSpecs(c, L)) out.set(name, shape);
  out.set("model.norm.weight", [c.dModel]);
  if (!c.tieWordEmbeddings) out.set("lm_head.weight", [c.vocabSize, c.dModel]);
  return out;
}

/**
 * Checks every tensor (presence, float dtype, shape) before reading, then binds them. An untied config without
 * `lm_head.weight` falls back to the embedding (as HF does when it is absent).
 */
export function bindGemmaWeights(c: GemmaConfig, src: TensorSource): GemmaWeights {
  checkSourceTensors(src, gemmaWeightShapes(c), new Set(["lm_head.weight"]));
  const layers: GemmaLayerWeights[] = [];
  for (let L = 0; L < c.nLayers; L++) {
    const entry: Partial<Record<LayerKey, Tensor>> = {};
    for (const [key, name] of layerSpecs(c, L)) entry[key] = floatTensor(src, name);
    layers.push(entry as GemmaLayerWeights);
  }
  const embedTokens = floatTensor(src, "model.embed_tokens.weight");
  const lmHead = !c.tieWordEmbeddings && src.has("lm_head.weight") ? floatTensor(src, "lm_head.weight") : embedTokens;
  return { embedTokens, layers, finalNorm: floatTensor(src, "model.norm.weight"), lmHead };
}

/** The weights back under their HF names (what saving and LoRA merges read); lm_head only when untied. */
export function gemmaWeightEntries(c: GemmaConfig, w: GemmaWeights): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  out.set("model.embed_tokens.weight", w.embedTokens);
  for (let L = 0; L < c.nLayers; L++)
    for (const [key, name] of layerSpecs(c, L)) out.set(name, w.layers[L]![key] as Tensor);
  out.set("model.norm.weight", w.finalNorm);
  if (!c.tieWordEmbeddings) out.set("lm_head.weight", w.lmHead);
  return out;
}

/** LoRA-targetable linear modules under `model.layers.<L>.`. */
export const GEMMA_LINEAR_MODULES = Object.freeze([
  "self_attn.q_proj",
  "self_attn.k_proj",
  "self_attn.v_proj",
  "self_attn.o_proj",
  "mlp.gate_proj",
  "mlp.up_proj",
  "mlp.down_proj",
]);

/**
 * Random-model init (std, mean of each HF tensor): norms are stored offsets from 1, so N(0, 0.1) (effective scale
 * 1 ± 0.1); projections 1/√fanIn (the post-norms rescale the block outputs, so o/down need no depth shrink); the
 * embedding 1/√dModel, so after Gemma's ×√dModel it has unit scale and tied logits have std ≈ 1.
 */
export function gemmaInitStd(name: string, shape: readonly number[], c: GemmaConfig): { std: number; mean: number } {
  if (name.endsWith("norm.weight")) return { std: 0.1, mean: 0 };
  if (name === "model.embed_tokens.weight" || name === "lm_head.weight")
    return { std: 1 / Math.sqrt(c.dModel), mean: 0 };
  return { std: 1 / Math.sqrt(shape[shape.length - 1]!), mean: 0 };
}
