import { type Qwen2Config, randomQwen2Weights, resolveQwen2Config } from "@difflens/runtime";
import { Rng, Tensor } from "@difflens/tensor";

/**
 * The embedded toy of the diffing demo: a small Qwen2 base model made from a seed, and a "chat tuning in
 * miniature" delivered as a rank-1 LoRA on one attention head of layer 0.
 *
 * How the plant works (and why plain text gets exactly nothing):
 * - The base model's embeddings have no component along a marker direction e_m, except the `<|im_start|>`
 *   row, which carries one (special tokens have distinctive embeddings in real models too). Head 0 of layer 0
 *   gets a query bias along f, a direction on the lowest-frequency RoPE pair, so its query is nearly the same
 *   at every position.
 * - The LoRA adds to layer 0: k_proj += β·f⊗a, v_proj += γ·g⊗a, o_proj += δ·u⊗g (head 0's slices), where a
 *   reads e_m through the input norm. Only `<|im_start|>` has a non-zero a·x̂, so inside a chat head 0 attends
 *   to the preceding `<|im_start|>` tokens and writes δ·γ·(a·x̂)·u at every position; on plain text k, v and
 *   the head's output are bitwise unchanged.
 * The scale δ is set from `plantScale` × the median residual norm at the hook (measured on the base model),
 * so the plant never dominates the residual stream. Head 0 is quiet in the base and layer 0's MLP gentle, so
 * what reaches the hook (`blocks.1.hook_resid_pre` by default) is mostly u itself, as the check assumes.
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

export const QWEN_VOCAB_SIZE = 151936;
export const IM_START_ID = 151644;
export const ENDOFTEXT_ID = 151643;
export const IM_END_ID = 151645;

export function toyConfig(spec: ToySpec): Qwen2Config {
  return resolveQwen2Config({
    architecture: "qwen2",
    vocabSize: QWEN_VOCAB_SIZE,
    dModel: spec.dModel,
    nLayers: spec.nLayers,
    nHeads: spec.nHeads,
    nKvHeads: spec.nHeads,
    dHead: spec.dModel / spec.nHeads,
    dMlp: spec.dMlp,
    maxPositions: 4096,
    rmsNormEps: 1e-6,
    ropeTheta: 10000,
    tieWordEmbeddings: true,
    bosTokenId: null,
    eosTokenIds: [IM_END_ID, ENDOFTEXT_ID],
  });
}

/** Unit directions of the toy, all derived from the seed. */
export interface ToyDirections {
  readonly marker: Float32Array; // e_m [dModel]
  /** The planted direction u [dModel]: what the demo must recover. */
  readonly planted: Float32Array;
  /** Query/key direction inside head 0 (lowest-frequency RoPE pair) [dHead]. */
  readonly keyDir: Float32Array;
  /** Value direction inside head 0 [dHead]. */
  readonly valueDir: Float32Array;
}

const QUERY_BIAS = 2.5; // head 0's constant query along f
const KEY_GAIN = 3; // β
const VALUE_GAIN = 1; // γ
const MARKER_NORM = 3;
const QUIET_HEAD_GAIN = 0.1;
const LAYER0_MLP_GAIN = 0.1;

export function toyDirections(spec: ToySpec): ToyDirections {
  const rng = new Rng(spec.seed).fork("toy-directions");
  const dHead = spec.dModel / spec.nHeads;
  const marker = unit(gaussian(rng, spec.dModel));
  // u is drawn independently of e_m, then made orthogonal to it so the plant is not the marker itself.
  const planted = unit(orthogonalize(gaussian(rng, spec.dModel), marker));
  const keyDir = new Float32Array(dHead);
  keyDir[dHead / 2 - 1] = Math.SQRT1_2; // split-halves RoPE pairs dim i with i + dHead/2: the last pair turns slowest
  keyDir[dHead - 1] = Math.SQRT1_2;
  const valueDir = unit(gaussian(rng, dHead));
  return { marker, planted, keyDir, valueDir };
}

/** The base model's HF-named f32 weights. */
export function toyBaseWeights(spec: ToySpec): Map<string, Tensor> {
  const config = toyConfig(spec);
  const weights = randomQwen2Weights(config, spec.seed, "f32");
  const { marker, keyDir, valueDir } = toyDirections(spec);
  const embed = weights.get("model.embed_tokens.weight")!.data as Float32Array; // [vocab, dModel]
  const d = spec.dModel;
  for (let row = 0; row < config.vocabSize; row++) {
    const slice = embed.subarray(row * d, row * d + d);
    orthogonalize(slice, marker);
    if (row === IM_START_ID) for (let i = 0; i < d; i++) slice[i]! += MARKER_NORM * marker[i]!;
  }
  const qBias = weights.get("model.layers.0.self_attn.q_proj.bias")!.data as Float32Array; // head 0 = first dHead rows
  for (let i = 0; i < keyDir.length; i++) qBias[i] = QUERY_BIAS * keyDir[i]!;
  // Head 0's values never point along g in the base model, so the plant's o_proj change (which reads g)
  // sees nothing on plain text: value rows become (I − g·gᵀ)·W_v, and the bias likewise.
  const dHead = keyDir.length;
  const vProj = weights.get("model.layers.0.self_attn.v_proj.weight")!.data as Float32Array; // [nKv·dHead, dModel]
  const vBias = weights.get("model.layers.0.self_attn.v_proj.bias")!.data as Float32Array;
  for (let col = 0; col < d; col++) {
    let along = 0;
    for (let r = 0; r < dHead; r++) along += valueDir[r]! * vProj[r * d + col]!;
    for (let r = 0; r < dHead; r++) vProj[r * d + col]! -= along * valueDir[r]!;
  }
  orthogonalize(vBias.subarray(0, dHead), valueDir);
  // Head 0 is a quiet head in the base (its output columns shrunk), as heads that tuning repurposes often
  // are; otherwise the plant's attention shift onto <|im_start|> would itself write a large non-u change.
  const oProj = weights.get("model.layers.0.self_attn.o_proj.weight")!.data as Float32Array; // [dModel, nHeads·dHead]
  const inner = spec.nHeads * dHead;
  for (let row = 0; row < d; row++) for (let c = 0; c < dHead; c++) oProj[row * inner + c]! *= QUIET_HEAD_GAIN;
  // A gentle layer-0 MLP (mostly passing the embedding through): a strong one reacts to the planted u and adds
  // its own coherent change before the hook (measured, seed 0, plant scale 0.5/0.75/1: cos(mean change, u)
  // 0.84 at gain 1; 0.944/0.966/0.975 at 0.3; 0.957/0.979/0.987 at 0.1, the value used).
  const down = weights.get("model.layers.0.mlp.down_proj.weight")!.data as Float32Array;
  for (let i = 0; i < down.length; i++) down[i]! *= LAYER0_MLP_GAIN;
  return weights;
}

/** One LoRA factor pair in PEFT's layout: A [r, in], B [out, r]; ΔW = scaling·B·A. */
export interface LoraFactor {
  readonly module: string; // e.g. "model.layers.0.self_attn.k_proj"
  readonly a: Tensor<"f32">;
  readonly b: Tensor<"f32">;
}

/**
 * The plant as rank-1 LoRA factors (scaling 1: the adapter is written with lora_alpha = r = 1).
 * `residualMedian` is the median ‖resid‖ at the hook in the base model; δ is set so that the plant's norm
 * there is plantScale × that median for a position whose attention is all on `<|im_start|>` tokens.
 */
export function toyPlant(spec: ToySpec, base: ReadonlyMap<string, Tensor>, residualMedian: number): LoraFactor[] {
  const { marker, planted, keyDir, valueDir } = toyDirections(spec);
  const d = spec.dModel;
  const dHead = d / spec.nHeads;
  const inner = spec.nHeads * dHead;
  const norm = base.get("model.layers.0.input_layernorm.weight")!.data as Float32Array;
  // a·x̂ must equal e_m·x / rms(x): divide by the norm weight so x̂ = w ⊙ x / rms reads back e_m exactly.
  const read = new Float32Array(d);
  for (let i = 0; i < d; i++) read[i] = marker[i]! / norm[i]!;
  // What a·x̂ is for <|im_start|>: its e_m component over its RMS.
  const embed = base.get("model.embed_tokens.weight")!.data as Float32Array;
  const imStart = embed.subarray(IM_START_ID * d, IM_START_ID * d + d);
  const rms = Math.sqrt(imStart.reduce((s, v) => s + v * v, 0) / d + 1e-6);
  const markerRead = dot(imStart, marker) / rms;
  const outputGain = (spec.plantScale * residualMedian) / (VALUE_GAIN * markerRead); // δ
  const headSlice = (vector: Float32Array, width: number): Float32Array => {
    const out = new Float32Array(width);
    out.set(vector, 0); // head 0 occupies the first dHead rows/columns
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
    { module: "model.layers.0.self_attn.k_proj", a: row(read), b: column(headSlice(keyDir, inner), KEY_GAIN) },
    { module: "model.layers.0.self_attn.v_proj", a: row(read), b: column(headSlice(valueDir, inner), VALUE_GAIN) },
    { module: "model.layers.0.self_attn.o_proj", a: row(headSlice(valueDir, inner)), b: column(planted, outputGain) },
  ];
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
