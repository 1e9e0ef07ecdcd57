/**
 * The Llama weight map (HF names `model.layers.<L>.self_attn.{q,k,v,o}_proj.weight`, `mlp.{gate,up,down}_proj.weight`,
 * two RMSNorms per block; no biases), shared with Qwen3, which adds the per-head `self_attn.{q,k}_norm.weight`
 * [dHead]. Matrices stay in their stored dtype (bf16 for real checkpoints).
 */
import type { Tensor } from "@difflens/tensor";
import { checkSourceTensors, floatTensor, type TensorSource } from "../../tensor-source.ts";
import type { DecoderConfig, DecoderLayerWeights, DecoderWeights } from "../model-family.ts";

export interface LlamaLayerWeights extends DecoderLayerWeights {
  readonly inputNorm: Tensor; // [dModel]
  readonly qProj: Tensor; // [nHeads·dHead, dModel]
  readonly kProj: Tensor; // [nKvHeads·dHead, dModel]
  readonly vProj: Tensor; // [nKvHeads·dHead, dModel]
  readonly oProj: Tensor; // [dModel, nHeads·dHead]
  /** Qwen3 only: RMSNorm weight applied to each query head before RoPE. */
  readonly qNorm?: Tensor; // [dHead]
  /** Qwen3 only: RMSNorm weight applied to each key head before RoPE. */
  readonly kNorm?: Tensor; // [dHead]
  readonly postNorm: Tensor; // [dModel]
  readonly gateProj: Tensor; // [dMlp, dModel]
  readonly upProj: Tensor; // [dMlp, dModel]
  readonly downProj: Tensor; // [dModel, dMlp]
}

export interface LlamaWeights extends DecoderWeights {
  readonly layers: readonly LlamaLayerWeights[];
}

type LayerKey = keyof LlamaLayerWeights;

/** HF tensor names of one layer with their shapes; `qkNorm` adds Qwen3's per-head norms. */
function layerSpecs(c: DecoderConfig, L: number, qkNorm: boolean): Array<[LayerKey, string, number[]]> {
  const p = `model.layers.${L}.`;
  const q = c.nHeads * c.dHead;
  const kv = c.nKvHeads * c.dHead;
  return [
    ["inputNorm", `${p}input_layernorm.weight`, [c.dModel]],
    ["qProj", `${p}self_attn.q_proj.weight`, [q, c.dModel]],
    ["kProj", `${p}self_attn.k_proj.weight`, [kv, c.dModel]],
    ["vProj", `${p}self_attn.v_proj.weight`, [kv, c.dModel]],
    ["oProj", `${p}self_attn.o_proj.weight`, [c.dModel, q]],
    ...(qkNorm
      ? ([
          ["qNorm", `${p}self_attn.q_norm.weight`, [c.dHead]],
          ["kNorm", `${p}self_attn.k_norm.weight`, [c.dHead]],
        ] as Array<[LayerKey, string, number[]]>)
      : []),
    ["postNorm", `${p}post_attention_layernorm.weight`, [c.dModel]],
    ["gateProj", `${p}mlp.gate_proj.weight`, [c.dMlp, c.dModel]],
    ["upProj", `${p}mlp.up_proj.weight`, [c.dMlp, c.dModel]],
    ["downProj", `${p}mlp.down_proj.weight`, [c.dModel, c.dMlp]],
  ];
}

/** Every HF tensor name the checkpoint needs (lm_head.weight only when untied) with its shape. */
export function llamaWeightShapes(c: DecoderConfig, qkNorm = false): Map<string, number[]> {
  const out = new Map<string, number[]>();
  out.set("model.embed_tokens.weight", [c.vocabSize, c.dModel]);
  for (let L = 0; L < c.nLayers; L++) for (const [, name, shape] of layerSpecs(c, L, qkNorm)) out.set(name, shape);
  out.set("model.norm.weight", [c.dModel]);
  if (!c.tieWordEmbeddings) out.set("lm_head.weight", [c.vocabSize, c.dModel]);
  return out;
}

/**
 * Checks every needed tensor's presence, dtype and shape before reading, then binds them. A missing
 * `lm_head.weight` on an untied config falls back to the embedding (as HF does when it is absent).
 */
export function bindLlamaWeights(c: DecoderConfig, src: TensorSource, qkNorm = false): LlamaWeights {
  checkSourceTensors(src, llamaWeightShapes(c, qkNorm), new Set(["lm_head.weight"]));
  const layers: LlamaLayerWeights[] = [];
  for (let L = 0; L < c.nLayers; L++) {
    const entry: Partial<Record<LayerKey, Tensor>> = {};
    for (const [key, name] of layerSpecs(c, L, qkNorm)) entry[key] = floatTensor(src, name);
    layers.push(entry as unknown as LlamaLayerWeights);
  }
  const embedTokens = floatTensor(src, "model.embed_tokens.weight");
  const lmHead = !c.tieWordEmbeddings && src.has("lm_head.weight") ? floatTensor(src, "lm_head.weight") : embedTokens;
  return { embedTokens, layers, finalNorm: floatTensor(src, "model.norm.weight"), lmHead };
}

/** The weights back under their HF names (what saving and LoRA merges read); lm_head only when untied. */
export function llamaWeightEntries(c: DecoderConfig, w: LlamaWeights, qkNorm = false): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  out.set("model.embed_tokens.weight", w.embedTokens);
  for (let L = 0; L < c.nLayers; L++)
    for (const [key, name] of layerSpecs(c, L, qkNorm)) out.set(name, w.layers[L]![key]!);
  out.set("model.norm.weight", w.finalNorm);
  if (!c.tieWordEmbeddings) out.set("lm_head.weight", w.lmHead);
  return out;
}

/** LoRA-targetable linear modules under `model.layers.<L>.`. */
export const LLAMA_LINEAR_MODULES: readonly string[] = Object.freeze([
  "self_attn.q_proj",
  "self_attn.k_proj",
  "self_attn.v_proj",
  "self_attn.o_proj",
  "mlp.gate_proj",
  "mlp.up_proj",
  "mlp.down_proj",
]);

/**
 * Random-model initialisation, Qwen2's scales (families/qwen2): projections std 1/√fanIn, output projections (o,
 * down) shrunk by √(2/nLayers), the embedding and lm_head 3/√dModel, norms (q/k norms too) 1 + N(0, 0.1).
 */
export function llamaInitStd(name: string, shape: readonly number[], c: DecoderConfig): { std: number; mean: number } {
  const fanIn = shape[shape.length - 1]!;
  if (name.endsWith("norm.weight")) return { std: 0.1, mean: 1 };
  if (name === "model.embed_tokens.weight" || name === "lm_head.weight")
    return { std: 3 / Math.sqrt(c.dModel), mean: 0 };
  if (name.endsWith("o_proj.weight") || name.endsWith("down_proj.weight"))
    return { std: Math.sqrt(2 / c.nLayers) / Math.sqrt(fanIn), mean: 0 };
  return { std: 1 / Math.sqrt(fanIn), mean: 0 };
}
