/**
 * The methods toy's weights: one base model and the plants that make its chat model, as LoRA factors (pure
 * functions of the seed; methods-toy.ts writes them as files). All plants live in layer 0, so they reach the hook
 * (`blocks.1.hook_resid_pre`) through the residual stream alone.
 *
 * - u, every chat position: app-kit's marker-head plant on head 0, marker `<|im_start|>` (as the diffing demo).
 * - v, context-gated: the same mechanism on head 1 with another marker, carried only by the trigger token
 *   (" banana"): head 1 attends to the trigger and writes v at the positions after it, nothing before it.
 * - f, shared with a changed magnitude: the base already writes f on a token class (every token id ≡ 3 mod 8). Those
 *   tokens' embeddings carry a class direction e_c, and layer 0's MLP neuron 0 reads e_c (gate and up) and writes f
 *   (down_proj column 0). The chat adapter adds the same column again to down_proj: f's write doubles, nothing else
 *   moves.
 * - control w: the u mechanism writing w instead of u (the same head, marker and base); u is never planted.
 * Directions (the markers e_m, e_t, e_c and the plants u, v, f, w) are one Gram–Schmidt draw: exactly orthogonal.
 */
import {
  type LoraFactor,
  MARKER_HEAD_GAINS,
  type MarkerHeadDirections,
  type MarkerHeadGains,
  markerHeadLora,
  markerRead,
  prepareMarkerHeadBase,
} from "@difflens/app-kit";
import { type Qwen2Config, randomQwen2Weights } from "@difflens/runtime";
import { Rng, type Tensor } from "@difflens/tensor";
import { IM_START_ID } from "../toy/toy-pair.ts";

/** Qwen's id of " banana": the token that gates v (outside the windows' random-token range, so only placed). */
export const TRIGGER_ID = 43096;
/** Token ids of the class whose positions carry f (special tokens excluded). */
export function inFeatureClass(id: number): boolean {
  return id % 16 === 3 && id < 151643;
}

/** Plant norms at the hook as fractions of the base model's median residual norm there. */
export interface MethodsToyScales {
  /** u (and w in the control) at a position whose head-0 attention is all on `<|im_start|>`. */
  readonly u: number;
  /** v at a position whose head-1 attention is all on the trigger. */
  readonly v: number;
  /** f in the base on a median class token (the chat model writes twice this). */
  readonly f: number;
}
export const METHODS_TOY_SCALES: MethodsToyScales = Object.freeze({ u: 0.8, v: 1.4, f: 0.6 });

/**
 * The marker heads' gains, with the plant heads quieter in the base than the demo's (0.02, not 0.1): the plant moves
 * their attention onto the marker, and what the head's base output carries from there is a second, non-planted chat
 * direction (measured at 0.1: a quarter of u's norm on every chat row).
 */
const PLANT_GAINS: MarkerHeadGains = Object.freeze({ ...MARKER_HEAD_GAINS, quietHeadGain: 0.02 });

/**
 * The trigger carries a smaller marker (norm 1: the trigger row's own residual is mostly its token) and head 1 a
 * weak key, so the trigger's attention score is a few units (see triggerPlantLora).
 */
const FEATURE_GAINS: MarkerHeadGains = Object.freeze({
  ...PLANT_GAINS,
  markerNorm: 1,
  keyGain: 0.8,
});
const TRIGGER_GAINS: MarkerHeadGains = Object.freeze({
  ...PLANT_GAINS,
  markerNorm: 1,
  keyGain: 0.8,
});

export interface MethodsToyDirections {
  readonly imStartMarker: Float32Array; // e_m [dModel]
  readonly triggerMarker: Float32Array; // e_t [dModel]
  readonly classMarker: Float32Array; // e_c [dModel]
  readonly u: Float32Array;
  readonly v: Float32Array;
  readonly f: Float32Array;
  readonly w: Float32Array;
  /** Head-space query/key direction (the slowest RoPE pair) and per-head value directions [dHead]. */
  readonly keyDir: Float32Array;
  readonly valueDirs: readonly [Float32Array, Float32Array, Float32Array];
}

export function methodsToyDirections(config: Qwen2Config, seed: number): MethodsToyDirections {
  const rng = new Rng(seed).fork("methods-toy-directions");
  const d = config.dModel;
  const dHead = config.dHead;
  const basis: Float32Array[] = [];
  for (let i = 0; i < 7; i++) {
    const x = gaussian(rng, d);
    for (const b of basis) axpy(x, b, -dot(x, b));
    basis.push(scaled(x, 1 / Math.sqrt(dot(x, x))));
  }
  const [imStartMarker, triggerMarker, classMarker, u, v, f, w] = basis as [
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
  ];
  const keyDir = new Float32Array(dHead);
  keyDir[dHead / 2 - 1] = Math.SQRT1_2; // split-halves RoPE pairs dim i with i + dHead/2: the last pair turns slowest
  keyDir[dHead - 1] = Math.SQRT1_2;
  const valueDir = () => {
    const g = gaussian(rng, dHead);
    return scaled(g, 1 / Math.sqrt(dot(g, g)));
  };
  return {
    imStartMarker,
    triggerMarker,
    classMarker,
    u,
    v,
    f,
    w,
    keyDir,
    valueDirs: [valueDir(), valueDir(), valueDir()],
  };
}

/** The marker-head plant that writes `planted` on chat positions (head 0, `<|im_start|>`). */
export function chatHead(dirs: MethodsToyDirections, planted: Float32Array): MarkerHeadDirections {
  return { marker: dirs.imStartMarker, planted, keyDir: dirs.keyDir, valueDir: dirs.valueDirs[0] };
}
/** The marker-head plant that writes v after the trigger (head 1). */
export function triggerHead(dirs: MethodsToyDirections): MarkerHeadDirections {
  return { marker: dirs.triggerMarker, planted: dirs.v, keyDir: dirs.keyDir, valueDir: dirs.valueDirs[1] };
}

/** The head that writes f after class tokens, in the base already (head 2). */
export function featureHead(dirs: MethodsToyDirections): MarkerHeadDirections {
  return { marker: dirs.classMarker, planted: dirs.f, keyDir: dirs.keyDir, valueDir: dirs.valueDirs[2] };
}

/** Base weights (HF names, f32): random, prepared for both marker heads, with the f feature on the token class. */
export function methodsToyBaseWeights(config: Qwen2Config, seed: number): Map<string, Tensor> {
  const dirs = methodsToyDirections(config, seed);
  const weights = randomQwen2Weights(config, seed, "f32");
  prepareMarkerHeadBase(config, weights, chatHead(dirs, dirs.u), [IM_START_ID], PLANT_GAINS, { head: 0 });
  prepareMarkerHeadBase(config, weights, triggerHead(dirs), [TRIGGER_ID], TRIGGER_GAINS, {
    head: 1,
    shrinkLayer0Mlp: false,
  });
  prepareMarkerHeadBase(config, weights, featureHead(dirs), featureClassIds(config), FEATURE_GAINS, {
    head: 2,
    shrinkLayer0Mlp: false,
  });
  constantQueries(config, weights, [0, 1, 2]);
  quietContextHeads(config, weights);
  blindAttentionTo(config, weights, [dirs.imStartMarker, dirs.triggerMarker, dirs.classMarker]);
  // The base's own f head: the marker-head mechanism merged into its weights (W += B·A).
  for (const { module, a, b } of featureHeadFactors(config, weights, dirs)) {
    const w = f32(weights, `${module}.weight`); // [out, in]
    const [A, B] = [a.data as Float32Array, b.data as Float32Array];
    for (let o = 0; o < B.length; o++) if (B[o] !== 0) axpy(w.subarray(o * A.length, (o + 1) * A.length), A, B[o]!);
  }
  return weights;
}

/**
 * The plant heads' queries are their bias alone (q_proj rows zeroed): the head looks for its marker from every
 * position alike. With random query rows a few tokens' queries outweigh the bias and look elsewhere, and u is then
 * missing on those chat rows.
 */
function constantQueries(config: Qwen2Config, weights: Map<string, Tensor>, heads: readonly number[]): void {
  const q = f32(weights, "model.layers.0.self_attn.q_proj.weight"); // [nHeads·dHead, dModel]
  for (const h of heads) q.fill(0, h * config.dHead * config.dModel, (h + 1) * config.dHead * config.dModel);
}

/**
 * Layer 0's keys and values in the base read nothing along the markers (k_proj, v_proj ← W·(I − r̂r̂ᵀ) for
 * r = norm weight ⊙ e, so W·x̂ has no e·x term): the markers are the plants' handles only. Otherwise every head
 * carries the trigger's large e_t into the rows after it in the base too, a base-side signature of the trigger rows
 * that v's crosscoder latent would absorb (its base decoder grows, its relative norm falls).
 */
function blindAttentionTo(config: Qwen2Config, weights: Map<string, Tensor>, markers: readonly Float32Array[]): void {
  const d = config.dModel;
  const norm = f32(weights, "model.layers.0.input_layernorm.weight");
  for (const e of markers) {
    const r = Float32Array.from(e, (x, i) => x * norm[i]!);
    const rHat = scaled(r, 1 / Math.sqrt(dot(r, r)));
    for (const name of ["k_proj", "v_proj"]) {
      const w = f32(weights, `model.layers.0.self_attn.${name}.weight`); // [out, dModel]
      for (let o = 0; o < w.length / d; o++)
        axpy(w.subarray(o * d, o * d + d), rHat, -dot(w.subarray(o * d, o * d + d), rHat));
    }
  }
}

/**
 * Layer 0's other heads (2 …) write at CONTEXT_HEAD_GAIN of their random scale. At full scale they give the base
 * model's chat rows a large context signature (the template tokens' values mixed into every chat row: measured
 * ‖mean chat row − mean text row‖ ≈ half of u), which co-occurs with u on every chat row, so a sparse crosscoder
 * files both under one latent and u's latent is no longer chat-only. The base's view of a row is then mostly its
 * token; the chat context is what the plants add.
 */
function quietContextHeads(config: Qwen2Config, weights: Map<string, Tensor>): void {
  const oProj = f32(weights, "model.layers.0.self_attn.o_proj.weight"); // [dModel, nHeads·dHead]
  const inner = config.nHeads * config.dHead;
  for (let row = 0; row < config.dModel; row++)
    for (let c = 3 * config.dHead; c < inner; c++) oProj[row * inner + c]! *= CONTEXT_HEAD_GAIN;
}
const CONTEXT_HEAD_GAIN = 0.1;

function featureClassIds(config: Qwen2Config): number[] {
  return Array.from({ length: config.vocabSize }, (_, id) => id).filter(inFeatureClass);
}

/**
 * The f head's factors (k, v, o of head 2), with δ set so that a position attending only to class tokens gets
 * `scales.f` × the median embedding-row norm along f (the embedding dominates the residual at the hook; the toy
 * records the measured fraction). Its key is weak (FEATURE_GAINS), so f's strength at a row depends on how many
 * class tokens precede it and how far back: a feature of the context, not of the row's own token.
 */
function featureHeadFactors(
  config: Qwen2Config,
  weights: ReadonlyMap<string, Tensor>,
  dirs: MethodsToyDirections,
): LoraFactor[] {
  const d = config.dModel;
  const embed = f32(weights, "model.embed_tokens.weight");
  const norms = Array.from({ length: 4096 }, (_, id) =>
    Math.sqrt(dot(embed.subarray(id * d, id * d + d), embed.subarray(id * d, id * d + d))),
  );
  const plant = featureHead(dirs);
  const classToken = featureClassIds(config)[0]!;
  const delta =
    (METHODS_TOY_SCALES.f * median(norms)) / (FEATURE_GAINS.valueGain * markerRead(config, weights, plant, classToken));
  return markerHeadLora(config, weights, plant, delta, FEATURE_GAINS, { head: 2 });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** f ×2: the f head's output factor again (o_proj += δ·f⊗g on head 2), so the chat model writes f twice as strongly. */
export function featureLora(
  config: Qwen2Config,
  base: ReadonlyMap<string, Tensor>,
  dirs: MethodsToyDirections,
): LoraFactor[] {
  return featureHeadFactors(config, base, dirs).filter((f) => f.module.endsWith("o_proj"));
}

/**
 * The chat-position plant (u, or w in the control) as LoRA factors on head 0: δ makes its write at the hook
 * `scales.u` × `residualMedian` (attention is all on `<|im_start|>` there).
 */
export function chatPlantLora(
  config: Qwen2Config,
  base: ReadonlyMap<string, Tensor>,
  dirs: MethodsToyDirections,
  planted: Float32Array,
  residualMedian: number,
): LoraFactor[] {
  const plant = chatHead(dirs, planted);
  const delta =
    (METHODS_TOY_SCALES.u * residualMedian) / (PLANT_GAINS.valueGain * markerRead(config, base, plant, IM_START_ID));
  return markerHeadLora(config, base, plant, delta, PLANT_GAINS, { head: 0 });
}

/**
 * v as LoRA factors on head 1, with a weak key (TRIGGER_GAINS): the trigger's attention score is a few units, so
 * head 1 attends to it less the more tokens follow (softmax dilution) and v's strength falls along the window, from
 * ≈ `scales.v` × `residualMedian` right after the trigger to about a third of it at the end. u's strength is
 * constant, so v's ratio to u varies and one latent cannot stand for both (with a constant v, a sparse dictionary
 * files the trigger rows under a single u + v latent).
 */
export function triggerPlantLora(
  config: Qwen2Config,
  base: ReadonlyMap<string, Tensor>,
  dirs: MethodsToyDirections,
  residualMedian: number,
): LoraFactor[] {
  const plant = triggerHead(dirs);
  const delta =
    (METHODS_TOY_SCALES.v * residualMedian) / (TRIGGER_GAINS.valueGain * markerRead(config, base, plant, TRIGGER_ID));
  return markerHeadLora(config, base, plant, delta, TRIGGER_GAINS, { head: 1 });
}

function f32(weights: ReadonlyMap<string, Tensor>, name: string): Float32Array {
  const t = weights.get(name);
  if (t?.dtype !== "f32") throw new Error(`methods toy: weight ${name} missing or not f32`);
  return t.data as Float32Array;
}
function gaussian(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal());
}
function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
function scaled(a: Float32Array, c: number): Float32Array {
  return a.map((x) => x * c);
}
/** y += c·x, in place. */
function axpy(y: Float32Array, x: Float32Array, c: number): void {
  for (let i = 0; i < y.length; i++) y[i]! += c * x[i]!;
}
