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
import { Rng, Tensor } from "@difflens/tensor";
import { IM_START_ID } from "../toy/toy-pair.ts";

/** Qwen's id of " banana": the token that gates v (outside the windows' random-token range, so only placed). */
export const TRIGGER_ID = 43096;
/** Token ids of the class whose positions carry f (special tokens excluded). */
export function inFeatureClass(id: number): boolean {
  return id % 8 === 3 && id < 151643;
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
export const METHODS_TOY_SCALES: MethodsToyScales = Object.freeze({ u: 0.8, v: Number(process.env.H1_V ?? 0.8), f: 0.6 });

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
const TRIGGER_GAINS: MarkerHeadGains = Object.freeze({
  ...PLANT_GAINS,
  markerNorm: Number(process.env.H1_MN ?? 1),
  keyGain: Number(process.env.H1_KG ?? 1.4),
});

/** e_c's norm added to class tokens' embedding rows (random rows have norm ≈ 3), drawn uniformly in this range. */
const CLASS_NORM = [1, 2] as const;

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
  readonly valueDirs: readonly [Float32Array, Float32Array];
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
  return { imStartMarker, triggerMarker, classMarker, u, v, f, w, keyDir, valueDirs: [valueDir(), valueDir()] };
}

/** The marker-head plant that writes `planted` on chat positions (head 0, `<|im_start|>`). */
export function chatHead(dirs: MethodsToyDirections, planted: Float32Array): MarkerHeadDirections {
  return { marker: dirs.imStartMarker, planted, keyDir: dirs.keyDir, valueDir: dirs.valueDirs[0] };
}
/** The marker-head plant that writes v after the trigger (head 1). */
export function triggerHead(dirs: MethodsToyDirections): MarkerHeadDirections {
  return { marker: dirs.triggerMarker, planted: dirs.v, keyDir: dirs.keyDir, valueDir: dirs.valueDirs[1] };
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
  addFeatureClass(config, weights, dirs, new Rng(seed).fork("methods-toy-class"));
  constantQueries(config, weights, [0, 1]);
  quietContextHeads(config, weights);
  blindAttentionTo(config, weights, [dirs.imStartMarker, dirs.triggerMarker]);
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
      for (let o = 0; o < w.length / d; o++) axpy(w.subarray(o * d, o * d + d), rHat, -dot(w.subarray(o * d, o * d + d), rHat));
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
    for (let c = 2 * config.dHead; c < inner; c++) oProj[row * inner + c]! *= CONTEXT_HEAD_GAIN;
}
const CONTEXT_HEAD_GAIN = 0.1;

/**
 * Class tokens' embedding rows get κ·e_c (κ uniform in CLASS_NORM, so f's strength varies by token); neuron 0 of
 * layer 0's MLP reads e_c through the norm (gate and up both, so it is silent where e_c is absent) and writes f.
 * The column's gain: see featureGain.
 */
function addFeatureClass(config: Qwen2Config, weights: Map<string, Tensor>, dirs: MethodsToyDirections, rng: Rng) {
  const d = config.dModel;
  const embed = f32(weights, "model.embed_tokens.weight"); // [vocab, dModel]
  const e = dirs.classMarker;
  for (let id = 0; id < config.vocabSize; id++) {
    const row = embed.subarray(id * d, id * d + d);
    axpy(row, e, -dot(row, e));
    if (inFeatureClass(id)) axpy(row, e, CLASS_NORM[0] + rng.nextFloat() * (CLASS_NORM[1] - CLASS_NORM[0]));
  }
  const norm = f32(weights, "model.layers.0.post_attention_layernorm.weight");
  const read = Float32Array.from(e, (x, i) => x / norm[i]!); // read·x̂ = e_c·x / rms(x)
  f32(weights, "model.layers.0.mlp.gate_proj.weight").set(read, 0); // row 0 of [dMlp, dModel]
  f32(weights, "model.layers.0.mlp.up_proj.weight").set(read, 0);
  const down = f32(weights, "model.layers.0.mlp.down_proj.weight"); // [dModel, dMlp]
  const gain = featureGain(config, weights, e);
  for (let i = 0; i < d; i++) down[i * config.dMlp]! = gain * dirs.f[i]!;
}

/**
 * Column gain of neuron 0 such that a median class token writes `METHODS_TOY_SCALES.f` × the median embedding-row
 * norm along f (the embedding dominates the residual at the hook, so this is close to the same fraction of the
 * residual; the toy records the measured one). The neuron reads c = e_c·x/rms(x) and outputs silu(c)·c; x is
 * taken as the embedding row (layer 0's attention adds little along e_c).
 */
function featureGain(config: Qwen2Config, weights: ReadonlyMap<string, Tensor>, e: Float32Array): number {
  const d = config.dModel;
  const embed = f32(weights, "model.embed_tokens.weight");
  const acts: number[] = [];
  const norms: number[] = [];
  for (let id = 0; id < 40000; id++) {
    const row = embed.subarray(id * d, id * d + d);
    const sq = dot(row, row);
    norms.push(Math.sqrt(sq));
    if (!inFeatureClass(id)) continue;
    const c = dot(row, e) / Math.sqrt(sq / d + config.rmsNormEps);
    acts.push((c / (1 + Math.exp(-c))) * c);
  }
  return (METHODS_TOY_SCALES.f * median(norms)) / median(acts);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** Neuron 0's down_proj column: gain·f [dModel]. */
export function featureColumn(config: Qwen2Config, weights: ReadonlyMap<string, Tensor>): Float32Array {
  const down = f32(weights, "model.layers.0.mlp.down_proj.weight");
  return Float32Array.from({ length: config.dModel }, (_, i) => down[i * config.dMlp]!);
}

/** f ×2 as a rank-1 LoRA on layer 0's down_proj: ΔW[:, 0] = the base's column 0 (A = e_0, B = that column). */
export function featureLora(config: Qwen2Config, base: ReadonlyMap<string, Tensor>): LoraFactor[] {
  const a = new Float32Array(config.dMlp);
  a[0] = 1;
  const column = featureColumn(config, base);
  return [
    {
      module: "model.layers.0.mlp.down_proj",
      a: new Tensor("f32", [1, config.dMlp], a),
      b: new Tensor("f32", [config.dModel, 1], column),
    },
  ];
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
  const delta = (METHODS_TOY_SCALES.u * residualMedian) / (PLANT_GAINS.valueGain * markerRead(config, base, plant, IM_START_ID));
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
  const delta = (METHODS_TOY_SCALES.v * residualMedian) / (TRIGGER_GAINS.valueGain * markerRead(config, base, plant, TRIGGER_ID));
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
