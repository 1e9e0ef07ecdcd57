import type { Tensor } from "@difflens/tensor";
import { checkSourceTensors, f32Tensor, floatTensor, type TensorSource } from "../../tensor-source.ts";
import type { DecoderLayerWeights, DecoderWeights } from "../model-family.ts";
import type { Qwen2Config } from "./qwen2-config.ts";

/** One decoder block's weights. Matrices stay in their stored dtype (bf16 for real checkpoints); biases are f32. */
export interface Qwen2LayerWeights extends DecoderLayerWeights {
  readonly inputNorm: Tensor; // [dModel]
  readonly qProj: Tensor; // [nHeads·dHead, dModel]
  readonly qBias: Tensor<"f32">; // [nHeads·dHead]
  readonly kProj: Tensor; // [nKvHeads·dHead, dModel]
  readonly kBias: Tensor<"f32">; // [nKvHeads·dHead]
  readonly vProj: Tensor; // [nKvHeads·dHead, dModel]
  readonly vBias: Tensor<"f32">; // [nKvHeads·dHead]
  readonly oProj: Tensor; // [dModel, nHeads·dHead]
  readonly postNorm: Tensor; // [dModel]
  readonly gateProj: Tensor; // [dMlp, dModel]
  readonly upProj: Tensor; // [dMlp, dModel]
  readonly downProj: Tensor; // [dModel, dMlp]
}

export interface Qwen2Weights extends DecoderWeights {
  readonly embedTokens: Tensor; // [vocab, dModel]
  readonly layers: readonly Qwen2LayerWeights[];
  readonly finalNorm: Tensor; // [dModel]
  /** The unembedding; the same tensor as embedTokens when tied (or when lm_head.weight is absent). */
  readonly lmHead: Tensor; // [vocab, dModel]
}

type LayerKey = keyof Qwen2LayerWeights;

/** HF tensor names of one layer, with their shapes. */
function layerSpecs(c: Qwen2Config, L: number): Array<[LayerKey, string, number[]]> {
  const p = `model.layers.${L}.`;
  const q = c.nHeads * c.dHead;
  const kv = c.nKvHeads * c.dHead;
  return [
    ["inputNorm", `${p}input_layernorm.weight`, [c.dModel]],
    ["qProj", `${p}self_attn.q_proj.weight`, [q, c.dModel]],
    ["qBias", `${p}self_attn.q_proj.bias`, [q]],
    ["kProj", `${p}self_attn.k_proj.weight`, [kv, c.dModel]],
    ["kBias", `${p}self_attn.k_proj.bias`, [kv]],
    ["vProj", `${p}self_attn.v_proj.weight`, [kv, c.dModel]],
    ["vBias", `${p}self_attn.v_proj.bias`, [kv]],
    ["oProj", `${p}self_attn.o_proj.weight`, [c.dModel, q]],
    ["postNorm", `${p}post_attention_layernorm.weight`, [c.dModel]],
    ["gateProj", `${p}mlp.gate_proj.weight`, [c.dMlp, c.dModel]],
    ["upProj", `${p}mlp.up_proj.weight`, [c.dMlp, c.dModel]],
    ["downProj", `${p}mlp.down_proj.weight`, [c.dModel, c.dMlp]],
  ];
}

/** Every HF tensor name a Qwen2 checkpoint needs (lm_head.weight only when untied) with its shape. */
export function qwen2WeightShapes(c: Qwen2Config): Map<string, number[]> {
  const out = new Map<string, number[]>();
  out.set("model.embed_tokens.weight", [c.vocabSize, c.dModel]);
  for (let L = 0; L < c.nLayers; L++) for (const [, name, shape] of layerSpecs(c, L)) out.set(name, shape);
  out.set("model.norm.weight", [c.dModel]);
  if (!c.tieWordEmbeddings) out.set("lm_head.weight", [c.vocabSize, c.dModel]);
  return out;
}

/**
 * Checks every needed tensor's presence, dtype and shape (before anything is read), then binds them.
 * Missing `lm_head.weight` on an untied config falls back to the embedding (as HF does when it is absent).
 */
export function bindQwen2Weights(c: Qwen2Config, src: TensorSource): Qwen2Weights {
  checkSourceTensors(src, qwen2WeightShapes(c), new Set(["lm_head.weight"]));
  const layers: Qwen2LayerWeights[] = [];
  for (let L = 0; L < c.nLayers; L++) {
    const entry: Partial<Record<LayerKey, Tensor>> = {};
    for (const [key, name] of layerSpecs(c, L))
      entry[key] = key.endsWith("Bias") ? f32Tensor(src, name) : floatTensor(src, name);
    layers.push(entry as unknown as Qwen2LayerWeights);
  }
  const embedTokens = floatTensor(src, "model.embed_tokens.weight");
  const lmHeadPresent = src.has("lm_head.weight");
  const lmHead = !c.tieWordEmbeddings && lmHeadPresent ? floatTensor(src, "lm_head.weight") : embedTokens;
  return { embedTokens, layers, finalNorm: floatTensor(src, "model.norm.weight"), lmHead };
}

/** The weights back under their HF names (what a checkpoint writer saves); lm_head only when untied. */
export function qwen2WeightEntries(c: Qwen2Config, w: Qwen2Weights): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  out.set("model.embed_tokens.weight", w.embedTokens);
  for (let L = 0; L < c.nLayers; L++) for (const [key, name] of layerSpecs(c, L)) out.set(name, w.layers[L]![key]);
  out.set("model.norm.weight", w.finalNorm);
  if (!c.tieWordEmbeddings) out.set("lm_head.weight", w.lmHead);
  return out;
}
