/**
 * The weight map of Gemma 2 and Gemma 3 (text): HF tensor names ↔ our fields. Four RMSNorms per block (stored as
 * w, applied as 1 + w by the forward), no biases, Gemma 3's per-head q/k norms ([dHead]), tied unembedding unless
 * the config unties it. Shapes, checks and binding are the shared decoder binder's (../shared/decoder-weights.ts).
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

/** HF tensor names of one layer, with their shapes (Gemma 3 has per-head q/k norms; Gemma 2 does not). */
function layerSpecs(c: DecoderConfig, L: number): LayerSpec[] {
  return [
    normSpec(c, L, "inputNorm", "input_layernorm"),
    ...attentionSpecs(c, L, { qkNorm: c.architecture === "gemma3" }),
    normSpec(c, L, "postAttnNorm", "post_attention_layernorm"),
    normSpec(c, L, "preMlpNorm", "pre_feedforward_layernorm"),
    normSpec(c, L, "postMlpNorm", "post_feedforward_layernorm"),
    ...mlpSpecs(c, L),
  ];
}

/** Every HF tensor name a Gemma checkpoint needs (lm_head.weight only when untied) with its shape. */
export function gemmaWeightShapes(c: GemmaConfig): Map<string, number[]> {
  return decoderWeightShapes(c, layerSpecs);
}

/** Checks every tensor (presence, float dtype, shape) before reading, then binds them. */
export function bindGemmaWeights(c: GemmaConfig, src: TensorSource): GemmaWeights {
  return bindDecoderWeights<GemmaLayerWeights>(c, src, layerSpecs);
}

/** The weights back under their HF names (what saving and LoRA merges read); lm_head only when untied. */
export function gemmaWeightEntries(c: GemmaConfig, w: GemmaWeights): Map<string, Tensor> {
  return decoderWeightEntries(c, w, layerSpecs);
}

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
