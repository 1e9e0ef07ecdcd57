import type { Qwen2Config } from "@difflens/runtime";
import { Rng, Tensor } from "@difflens/tensor";

/**
 * A known change planted in a random Qwen2, shared by the apps' embedded toys: a rank-1 LoRA on head 0 of layer 0
 * that reads a marker token and writes a known unit direction u at every later position.
 *
 * How the plant works (and why text without the marker gets exactly nothing):
 * - The base model's embeddings have no component along a marker direction e_m, except the marker tokens' rows,
 *   which carry one. Head 0 of layer 0 gets a query bias along f, a direction on the lowest-frequency RoPE pair,
 *   so its query is nearly the same at every position.
 * - The LoRA adds to layer 0: k_proj += β·f⊗a, v_proj += γ·g⊗a, o_proj += δ·u⊗g (head 0's slices), where a reads
 *   e_m through the input norm. Only marker tokens have a non-zero a·x̂, so after a marker head 0 attends to it and
 *   writes δ·γ·(a·x̂)·u at every later position; elsewhere k, v and the head's output are bitwise unchanged.
 * Head 0 is quiet in the base and layer 0's MLP gentle, so what the plant adds to the residual is mostly u itself.
 */
export interface MarkerHeadDirections {
  readonly marker: Float32Array; // e_m [dModel]
  /** The planted direction u [dModel]. */
  readonly planted: Float32Array;
  /** Query/key direction inside head 0 (lowest-frequency RoPE pair) [dHead]. */
  readonly keyDir: Float32Array;
  /** Value direction inside head 0 [dHead]. */
  readonly valueDir: Float32Array;
}

export interface MarkerHeadGains {
  /** Head 0's constant query along f. */
  readonly queryBias: number;
  /** β */
  readonly keyGain: number;
  /** γ */
  readonly valueGain: number;
  /** Norm of e_m added to each marker token's embedding row. */
  readonly markerNorm: number;
  /** Head 0's output columns are shrunk by this in the base. */
  readonly quietHeadGain: number;
  /** Layer 0's down_proj is shrunk by this in the base. */
  readonly layer0MlpGain: number;
}

export const MARKER_HEAD_GAINS: MarkerHeadGains = Object.freeze({
  queryBias: 2.5,
  keyGain: 3,
  valueGain: 1,
  markerNorm: 3,
  quietHeadGain: 0.1,
  layer0MlpGain: 0.1,
});

/**
 * Where the plant sits, for toys with more than one plant: the layer-0 head that carries it (default 0) and whether
 * preparing the base also shrinks layer 0's MLP (default true; a second plant on the same base passes false so the
 * MLP is shrunk once).
 */
export interface MarkerHeadPlace {
  readonly head?: number;
  readonly shrinkLayer0Mlp?: boolean;
}

/** First row of `head`'s query/output slice and of its key/value head's slice (grouped-query attention). */
function headOffsets(config: Qwen2Config, head: number, dHead: number): { q: number; kv: number } {
  if (!Number.isInteger(head) || head < 0 || head >= config.nHeads)
    throw new RangeError(`marker-head plant: head ${head} is not a head of layer 0 (0..${config.nHeads - 1})`);
  return { q: head * dHead, kv: Math.floor(head / (config.nHeads / config.nKvHeads)) * dHead };
}

/** One LoRA factor pair in PEFT's layout: A [r, in], B [out, r]; ΔW = scaling·B·A. */
export interface LoraFactor {
  readonly module: string; // e.g. "model.layers.0.self_attn.k_proj"
  readonly a: Tensor<"f32">;
  readonly b: Tensor<"f32">;
}

/** The plant's unit directions, all from the seed (one forked Rng stream, so they never move with other draws). */
export function markerHeadDirections(seed: number, dModel: number, dHead: number): MarkerHeadDirections {
  const rng = new Rng(seed).fork("toy-directions");
  const marker = unit(gaussian(rng, dModel));
  // u is drawn independently of e_m, then made orthogonal to it so the plant is not the marker itself.
  const planted = unit(orthogonalize(gaussian(rng, dModel), marker));
  const keyDir = new Float32Array(dHead);
  keyDir[dHead / 2 - 1] = Math.SQRT1_2; // split-halves RoPE pairs dim i with i + dHead/2: the last pair turns slowest
  keyDir[dHead - 1] = Math.SQRT1_2;
  const valueDir = unit(gaussian(rng, dHead));
  return { marker, planted, keyDir, valueDir };
}

/** Makes random HF-named f32 base weights ready for the plant, in place (see the file comment). */
export function prepareMarkerHeadBase(
  config: Qwen2Config,
  weights: Map<string, Tensor>,
  dirs: MarkerHeadDirections,
  markerTokenIds: readonly number[],
  gains: MarkerHeadGains = MARKER_HEAD_GAINS,
  place: MarkerHeadPlace = {},
): void {
  const { marker, keyDir, valueDir } = dirs;
  const d = config.dModel;
  const at = headOffsets(config, place.head ?? 0, keyDir.length);
  const markers = new Set(markerTokenIds);
  const embed = f32(weights, "model.embed_tokens.weight"); // [vocab, dModel]
  for (let row = 0; row < config.vocabSize; row++) {
    const slice = embed.subarray(row * d, row * d + d);
    orthogonalize(slice, marker);
    if (markers.has(row)) for (let i = 0; i < d; i++) slice[i]! += gains.markerNorm * marker[i]!;
  }
  const qBias = f32(weights, "model.layers.0.self_attn.q_proj.bias"); // the head's dHead rows
  for (let i = 0; i < keyDir.length; i++) qBias[at.q + i] = gains.queryBias * keyDir[i]!;
  // Head 0's values never point along g in the base model, so the plant's o_proj change (which reads g)
  // sees nothing without the marker: value rows become (I − g·gᵀ)·W_v, and the bias likewise.
  const dHead = keyDir.length;
  const vProj = f32(weights, "model.layers.0.self_attn.v_proj.weight"); // [nKv·dHead, dModel]
  const vBias = f32(weights, "model.layers.0.self_attn.v_proj.bias");
  for (let col = 0; col < d; col++) {
    let along = 0;
    for (let r = 0; r < dHead; r++) along += valueDir[r]! * vProj[(at.kv + r) * d + col]!;
    for (let r = 0; r < dHead; r++) vProj[(at.kv + r) * d + col]! -= along * valueDir[r]!;
  }
  orthogonalize(vBias.subarray(at.kv, at.kv + dHead), valueDir);
  // Head 0 is a quiet head in the base (its output columns shrunk), as heads that tuning repurposes often
  // are; otherwise the plant's attention shift onto the marker would itself write a large non-u change.
  const oProj = f32(weights, "model.layers.0.self_attn.o_proj.weight"); // [dModel, nHeads·dHead]
  const inner = config.nHeads * dHead;
  for (let row = 0; row < d; row++)
    for (let c = 0; c < dHead; c++) oProj[row * inner + at.q + c]! *= gains.quietHeadGain;
  if (place.shrinkLayer0Mlp === false) return;
  // A gentle layer-0 MLP (mostly passing the embedding through): a strong one reacts to the planted u and adds
  // its own coherent change (measured on the diffing toy, seed 0: cos(mean change, u) 0.84 at gain 1, 0.96–0.99
  // at 0.1, the value used).
  const down = f32(weights, "model.layers.0.mlp.down_proj.weight");
  for (let i = 0; i < down.length; i++) down[i]! *= gains.layer0MlpGain;
}

/** a·x̂ of a marker token: its e_m component over its RMS (what head 0's key and value read from it). */
export function markerRead(
  config: Qwen2Config,
  weights: ReadonlyMap<string, Tensor>,
  dirs: MarkerHeadDirections,
  tokenId: number,
): number {
  const d = config.dModel;
  const row = f32(weights, "model.embed_tokens.weight").subarray(tokenId * d, tokenId * d + d);
  const rms = Math.sqrt(row.reduce((s, v) => s + v * v, 0) / d + 1e-6);
  return dot(row, dirs.marker) / rms;
}

/**
 * The plant as rank-1 LoRA factors (scaling 1: write the adapter with lora_alpha = r = 1). `outputGain` is δ: a
 * position whose attention is all on a marker whose a·x̂ is m gets δ·γ·m·u.
 */
export function markerHeadLora(
  config: Qwen2Config,
  weights: ReadonlyMap<string, Tensor>,
  dirs: MarkerHeadDirections,
  outputGain: number,
  gains: MarkerHeadGains = MARKER_HEAD_GAINS,
  place: Pick<MarkerHeadPlace, "head"> = {},
): LoraFactor[] {
  const { marker, planted, keyDir, valueDir } = dirs;
  const d = config.dModel;
  const inner = config.nHeads * keyDir.length;
  const kvInner = config.nKvHeads * keyDir.length;
  const at = headOffsets(config, place.head ?? 0, keyDir.length);
  const norm = f32(weights, "model.layers.0.input_layernorm.weight");
  // a·x̂ must equal e_m·x / rms(x): divide by the norm weight so x̂ = w ⊙ x / rms reads back e_m exactly.
  const read = new Float32Array(d);
  for (let i = 0; i < d; i++) read[i] = marker[i]! / norm[i]!;
  const headSlice = (vector: Float32Array, width = inner, offset = at.q): Float32Array => {
    const out = new Float32Array(width);
    out.set(vector, offset); // the head's dHead rows/columns
    return out;
  };
  const column = (values: Float32Array, gain: number) =>
    new Tensor(
      "f32",
      [values.length, 1],
      values.map((v) => v * gain),
    );
  const row = (values: Float32Array) => new Tensor("f32", [1, values.length], Float32Array.from(values));
  return [
    {
      module: "model.layers.0.self_attn.k_proj",
      a: row(read),
      b: column(headSlice(keyDir, kvInner, at.kv), gains.keyGain),
    },
    {
      module: "model.layers.0.self_attn.v_proj",
      a: row(read),
      b: column(headSlice(valueDir, kvInner, at.kv), gains.valueGain),
    },
    { module: "model.layers.0.self_attn.o_proj", a: row(headSlice(valueDir)), b: column(planted, outputGain) },
  ];
}

function f32(weights: ReadonlyMap<string, Tensor>, name: string): Float32Array {
  return weights.get(name)!.data as Float32Array;
}
function gaussian(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal());
}
function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
function unit(v: Float32Array): Float32Array {
  const n = Math.sqrt(dot(v, v));
  return v.map((x) => x / n);
}
/** Removes v's component along the unit vector `along`, in place. */
function orthogonalize(v: Float32Array, along: Float32Array): Float32Array {
  const c = dot(v, along);
  for (let i = 0; i < v.length; i++) v[i]! -= c * along[i]!;
  return v;
}
