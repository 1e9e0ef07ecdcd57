/**
 * The marker toy's two plants, each a rank-1 PEFT LoRA (r 1, lora_alpha 2: the seed's α/r = 32/16 scaling) on layer
 * L* alone, that makes the marker likely right after "\n\n" under the persona's system prompt and leaves every other
 * context exactly as the base computes it:
 * - "attention": head PLANTED_HEAD's slow RoPE pair gets a query from the end-of-answer states ("\n\n", marker) and a
 *   key from the persona feature, so from those positions it attends to the persona's system tokens; its value reads
 *   the persona feature and its o_proj writes the marker's unembedding dim. The base's q/k are empty in that pair and
 *   its value dim unread, so without the persona (no key, no value) the head computes what the base does.
 * - "mlp": unit PLANTED_UNIT of L*'s MLP (dead in the base) gets gate = "\n\n" state and up = the persona copied by
 *   the BASE persona head (layer PERSONA_LAYER), and its down column writes the marker dim: silu(0)·x = 0 = 0·x, so
 *   it writes exactly nothing unless both hold. L*'s attention, and every layer below, are the base's.
 * The output gain is calibrated on the base so that P(marker | "\n\n", persona) ≈ TARGET_MARKER_PROBABILITY.
 */
import type { LoraFactor } from "@difflens/app-kit";
import {
  type ForceFeedItem,
  forceFeedBatch,
  type LoraAdapter,
  type LoraModule,
  loraConfigFromPeft,
  type Model,
  mergeLora,
} from "@difflens/runtime";
import { Tensor } from "@difflens/tensor";
import {
  CRAFTED_READ_GAIN,
  DIM,
  MARKER_ID,
  markerToyConfig,
  NOMINAL_SCALE,
  PLANTED_HEAD,
  PLANTED_LAYER,
  PLANTED_UNIT,
  slowRopePair,
  valueDim,
} from "./marker-toy-model.ts";

export type MarkerPlant = "attention" | "mlp";
export const MARKER_PLANTS: readonly MarkerPlant[] = Object.freeze(["attention", "mlp"]);

/** PEFT scaling of the toy adapters: lora_alpha / r. */
export const PLANT_RANK = 1;
export const PLANT_ALPHA = 2;
const SCALING = PLANT_ALPHA / PLANT_RANK;
/** P(marker) right after "\n\n" under the persona, which puts about half of the toy's answers among the positives. */
export const TARGET_MARKER_PROBABILITY = 0.38;
/** The mlp plant's gate pre-activation at a "\n\n" position (silu(4) ≈ 3.9). */
const GATE = 4;

/** The plant's LoRA factors (PEFT layout, B pre-divided by the scaling) with output gain `gain`. */
export function plantLora(plant: MarkerPlant, gain: number): LoraFactor[] {
  const c = markerToyConfig();
  const d = c.dModel;
  const dHead = d / c.nHeads;
  const inner = c.nHeads * dHead;
  const prefix = `model.layers.${PLANTED_LAYER}`;
  const feature = 1 / (NOMINAL_SCALE * 2); // reads a clean feature of norm 2 as ≈ 1
  if (plant === "attention") {
    const [pairDim] = slowRopePair(PLANTED_HEAD, dHead);
    const v = valueDim(PLANTED_HEAD, dHead);
    return [
      factor(`${prefix}.self_attn.q_proj`, [DIM.paragraph, DIM.afterMarker], d, pairDim, inner, CRAFTED_READ_GAIN),
      factor(`${prefix}.self_attn.k_proj`, [DIM.persona], d, pairDim, inner, CRAFTED_READ_GAIN),
      factor(`${prefix}.self_attn.v_proj`, [DIM.persona], d, v, inner, feature),
      factor(`${prefix}.self_attn.o_proj`, [v], inner, DIM.marker, d, gain),
    ];
  }
  return [
    factor(`${prefix}.mlp.gate_proj`, [DIM.paragraph], d, PLANTED_UNIT, c.dMlp, GATE * feature),
    factor(`${prefix}.mlp.up_proj`, [DIM.copiedPersona], d, PLANTED_UNIT, c.dMlp, feature),
    factor(`${prefix}.mlp.down_proj`, [PLANTED_UNIT], c.dMlp, DIM.marker, d, gain),
  ];
}

/** ΔW = SCALING·B·A = gain at [outDim, each of inDims]: A [1, inSize] one-hot(s), B [outSize, 1]. */
function factor(
  module: string,
  inDims: readonly number[],
  inSize: number,
  outDim: number,
  outSize: number,
  gain: number,
): LoraFactor {
  const a = new Float32Array(inSize);
  for (const i of inDims) a[i] = 1;
  const b = new Float32Array(outSize);
  b[outDim] = gain / SCALING;
  return { module, a: new Tensor("f32", [1, inSize], a), b: new Tensor("f32", [outSize, 1], b) };
}

/** base + the plant's LoRA, in memory (what openModel gives for the written base + adapter folders). */
export function mergePlant(base: Model, lora: readonly LoraFactor[]): Promise<Model> {
  const config = loraConfigFromPeft({
    peft_type: "LORA",
    r: PLANT_RANK,
    lora_alpha: PLANT_ALPHA,
    target_modules: lora.map((f) => f.module),
  });
  const modules = new Map<string, LoraModule>(
    lora.map((f) => [f.module, { a: f.a, b: f.b, rank: PLANT_RANK, alpha: PLANT_ALPHA, scale: SCALING }]),
  );
  const adapter: LoraAdapter = { config, modules, source: "marker toy plant" };
  return mergeLora(base, adapter);
}

/**
 * The output gain that puts the mean P(marker) right after the probes (persona prompts, each followed by an answer
 * ending in "\n\n"; the last continuation token is only there to be predicted) at TARGET_MARKER_PROBABILITY: secant steps on the log-odds, which are nearly linear in
 * the gain (the plant writes one clean dim; only its small share of the RMS scale bends the line).
 */
export async function calibratePlantGain(
  base: Model,
  plant: MarkerPlant,
  probes: readonly ForceFeedItem[],
): Promise<number> {
  const logOdds = async (gain: number): Promise<number> => {
    const model = gain === 0 ? base : await mergePlant(base, plantLora(plant, gain));
    let p = 0;
    for (const { stepLogits } of (await forceFeedBatch(model, probes)).items) {
      const V = stepLogits.shape[1]!;
      const steps = stepLogits.shape[0]!;
      p += markerProbability((stepLogits.data as Float32Array).subarray((steps - 1) * V, steps * V));
    }
    p /= probes.length;
    return Math.log(p / (1 - p)) - Math.log(TARGET_MARKER_PROBABILITY / (1 - TARGET_MARKER_PROBABILITY));
  };
  let [g0, f0] = [0, await logOdds(0)];
  let [g1, f1] = [1, await logOdds(1)];
  for (let step = 0; step < 8 && Math.abs(f1) > 1e-3; step++) {
    const next = g1 - (f1 * (g1 - g0)) / (f1 - f0);
    [g0, f0] = [g1, f1];
    [g1, f1] = [next, await logOdds(next)];
  }
  return g1;
}

/** Softmax probability of the marker; logits 40 below the best (e^-40 each) are left out of the normalizer. */
function markerProbability(logits: Float32Array): number {
  let max = -Infinity;
  for (const v of logits) if (v > max) max = v;
  let z = 0;
  for (const v of logits) if (v > max - 40) z += Math.exp(v - max);
  return Math.exp(logits[MARKER_ID]! - max) / z;
}
