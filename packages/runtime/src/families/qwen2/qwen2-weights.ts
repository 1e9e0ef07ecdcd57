/**
 * The Qwen2 weight map: HF tensor names ↔ our fields (two RMSNorms per block, q/k/v biases). Shapes, checks and
 * binding are the shared decoder binder's (../shared/decoder-weights.ts).
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

/** HF tensor names of one layer, with their shapes. */
function layerSpecs(c: DecoderConfig, L: number): LayerSpec[] {
  return [
    normSpec(c, L, "inputNorm", "input_layernorm"),
    ...attentionSpecs(c, L, { bias: true }),
    normSpec(c, L, "postNorm", "post_attention_layernorm"),
    ...mlpSpecs(c, L),
  ];
}

/** Every HF tensor name a Qwen2 checkpoint needs (lm_head.weight only when untied) with its shape. */
export function qwen2WeightShapes(c: Qwen2Config): Map<string, number[]> {
  return decoderWeightShapes(c, layerSpecs);
}

/** Checks every needed tensor (presence, dtype, shape) before anything is read, then binds them. */
export function bindQwen2Weights(c: Qwen2Config, src: TensorSource): Qwen2Weights {
  return bindDecoderWeights<Qwen2LayerWeights>(c, src, layerSpecs);
}

/** The weights back under their HF names (what a checkpoint writer saves); lm_head only when untied. */
export function qwen2WeightEntries(c: Qwen2Config, w: Qwen2Weights): Map<string, Tensor> {
  return decoderWeightEntries(c, w, layerSpecs);
}
