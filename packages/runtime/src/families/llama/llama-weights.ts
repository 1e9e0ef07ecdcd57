/**
 * The Llama weight map (HF names `model.layers.<L>.self_attn.{q,k,v,o}_proj.weight`, `mlp.{gate,up,down}_proj.weight`,
 * two RMSNorms per block; no biases), shared with Qwen3, which adds the per-head `self_attn.{q,k}_norm.weight`
 * [dHead]. Matrices stay in their stored dtype (bf16 for real checkpoints). Shapes, checks and binding are the shared
 * decoder binder's (../shared/decoder-weights.ts).
 */
import type { Tensor } from "@difflens/tensor";
import type { TensorSource } from "../../tensor-source.ts";
import type { DecoderConfig, DecoderLayerWeights, DecoderWeights } from "../model-family.ts";
import {
  attentionSpecs,
  bindDecoderWeights,
  decoderWeightEntries,
  decoderWeightShapes,
  type LayerSpec,
  mlpSpecs,
  normSpec,
} from "../shared/decoder-weights.ts";

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

/** HF tensor names of one layer with their shapes; `qkNorm` adds Qwen3's per-head norms. */
function layerSpecs(qkNorm: boolean): (c: DecoderConfig, L: number) => LayerSpec[] {
  return (c, L) => [
    normSpec(c, L, "inputNorm", "input_layernorm"),
    ...attentionSpecs(c, L, { qkNorm }),
    normSpec(c, L, "postNorm", "post_attention_layernorm"),
    ...mlpSpecs(c, L),
  ];
}
const LLAMA_SPECS = layerSpecs(false);
const QWEN3_SPECS = layerSpecs(true);

/** Every HF tensor name the checkpoint needs (lm_head.weight only when untied) with its shape. */
export function llamaWeightShapes(c: DecoderConfig, qkNorm = false): Map<string, number[]> {
  return decoderWeightShapes(c, qkNorm ? QWEN3_SPECS : LLAMA_SPECS);
}

/** Checks every needed tensor (presence, dtype, shape) before anything is read, then binds them. */
export function bindLlamaWeights(c: DecoderConfig, src: TensorSource, qkNorm = false): LlamaWeights {
  return bindDecoderWeights<LlamaLayerWeights>(c, src, qkNorm ? QWEN3_SPECS : LLAMA_SPECS);
}

/** The weights back under their HF names (what saving and LoRA merges read); lm_head only when untied. */
export function llamaWeightEntries(c: DecoderConfig, w: LlamaWeights, qkNorm = false): Map<string, Tensor> {
  return decoderWeightEntries(c, w, qkNorm ? QWEN3_SPECS : LLAMA_SPECS);
}
