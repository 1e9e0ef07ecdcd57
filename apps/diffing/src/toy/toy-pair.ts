import {
  ENDOFTEXT_ID,
  IM_END_ID,
  IM_START_ID,
  type LoraFactor,
  MARKER_HEAD_GAINS,
  type MarkerHeadDirections,
  markerHeadDirections,
  markerHeadLora,
  markerRead,
  prepareMarkerHeadBase,
  QWEN_VOCAB_SIZE,
  qwenToyConfig,
} from "@difflens/app-kit";
import { type Qwen2Config, randomQwen2Weights } from "@difflens/runtime";
import type { Tensor } from "@difflens/tensor";

export { ENDOFTEXT_ID, IM_END_ID, IM_START_ID, type LoraFactor, QWEN_VOCAB_SIZE };

/**
 * The embedded toy of the diffing demo: a small Qwen2 base model made from a seed, and a "chat tuning in
 * miniature" delivered as a rank-1 LoRA on one attention head of layer 0 (app-kit's marker-head plant).
 *
 * The marker is `<|im_start|>` (special tokens have distinctive embeddings in real models too): inside a chat
 * head 0 attends to the preceding `<|im_start|>` tokens and writes δ·γ·(a·x̂)·u at every position; on plain text
 * k, v and the head's output are bitwise unchanged. The scale δ is set from `plantScale` × the median residual
 * norm at the hook (measured on the base model), so the plant never dominates the residual stream. Head 0 is quiet
 * in the base and layer 0's MLP gentle, so what reaches the hook (`blocks.1.hook_resid_pre` by default) is mostly u
 * itself, as the check assumes.
 */
export interface ToySpec {
  /** Seeds the base weights, the directions and the plant. */
  readonly seed: number;
  /** Plant norm at the hook as a fraction of the median residual norm there (≤ 1). */
  readonly plantScale: number;
  readonly dModel: number;
  readonly nLayers: number;
  readonly nHeads: number;
  readonly dMlp: number;
}

export function toyConfig(spec: ToySpec): Qwen2Config {
  return qwenToyConfig(spec);
}

/** Unit directions of the toy, all derived from the seed; `planted` is u, what the demo must recover. */
export type ToyDirections = MarkerHeadDirections;

export function toyDirections(spec: ToySpec): ToyDirections {
  return markerHeadDirections(spec.seed, spec.dModel, spec.dModel / spec.nHeads);
}

/** The base model's HF-named f32 weights. */
export function toyBaseWeights(spec: ToySpec): Map<string, Tensor> {
  const config = toyConfig(spec);
  const weights = randomQwen2Weights(config, spec.seed, "f32");
  prepareMarkerHeadBase(config, weights, toyDirections(spec), [IM_START_ID]);
  return weights;
}

/**
 * The plant as rank-1 LoRA factors (scaling 1: the adapter is written with lora_alpha = r = 1).
 * `residualMedian` is the median ‖resid‖ at the hook in the base model; δ is set so that the plant's norm
 * there is plantScale × that median for a position whose attention is all on `<|im_start|>` tokens.
 */
export function toyPlant(spec: ToySpec, base: ReadonlyMap<string, Tensor>, residualMedian: number): LoraFactor[] {
  const config = toyConfig(spec);
  const dirs = toyDirections(spec);
  const outputGain =
    (spec.plantScale * residualMedian) / (MARKER_HEAD_GAINS.valueGain * markerRead(config, base, dirs, IM_START_ID)); // δ
  return markerHeadLora(config, base, dirs, outputGain);
}
