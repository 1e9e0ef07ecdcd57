/**
 * The marker toy's base model: a small random Qwen2 (real Qwen vocabulary, untied unembedding) crafted so that
 * - sampled answers are short runs over five answer words, "\n\n" and <|im_end|>: the next-token distribution is a
 *   Markov chain on the input token's "state" (word, "\n\n" or marker), read by the unembedding from clean dims;
 * - a handful of residual dims are CLEAN: only the embeddings and the crafted circuits write them (every random
 *   q/k/v/gate/up column reading them and every random o/down row writing them is zeroed), so a plant reads exactly
 *   what it should and the random layers see the clean dims only through the RMS norms;
 * - a BASE head (head 0 of layer PERSONA_LAYER) attends from end-of-answer positions ("\n\n" and the marker) to the
 *   persona's system-prompt tokens and copies the persona feature into the clean dim DIM.copiedPersona: a property of
 *   the base, as the seed found of prompted Qwen (system attention at end-of-answer-style positions);
 * - the planted layer's head PLANTED_HEAD and MLP unit 0 are left ready for the plants (marker-toy-plants.ts).
 * A constant clean dim BIAS carried by every embedding row dominates the residual's norm, so the RMS scale (and so the
 * answer logits) barely moves from position to position; the random dims' norm gains partly make up for it.
 */
import { qwenToyConfig } from "@difflens/app-kit";
import { type Qwen2Config, randomQwen2Weights, resolveQwen2Config } from "@difflens/runtime";
import { Rng, Tensor } from "@difflens/tensor";
import { uniformTensor } from "./toy-model.ts";

export const MARKER_TOY_SHAPE = Object.freeze({ dModel: 64, nLayers: 5, nHeads: 4, dMlp: 128 });
/** The base head that carries the persona to end-of-answer positions (head 0 of this layer). */
export const PERSONA_LAYER = 1;
/** L*: the layer both plants change. */
export const PLANTED_LAYER = 3;
/** The head the attention plant repurposes (quiet in the base). */
export const PLANTED_HEAD = 1;
/** The MLP unit the mlp plant uses (dead in the base). */
export const PLANTED_UNIT = 0;

export const MARKER_ID = 85113; // "[Z", the first token of "[ZLT]"
export const DOUBLE_NEWLINE_ID = 271; // "\n\n"
export const NEWLINE_ID = 198; // "\n": the generation prompt's last token, so answers start in the word state
export const IM_END_ID = 151645;
/** " tea", " rain", " map", " blue", " stone". */
export const ANSWER_WORD_IDS: readonly number[] = Object.freeze([15243, 11174, 2415, 6303, 9798]);
/** " librarian", " quiet", " reading", " rooms": the persona's system-prompt tokens that carry its feature. */
export const PERSONA_TOKEN_IDS: readonly number[] = Object.freeze([94207, 11340, 5290, 12026]);

/** The clean residual dims (indices into dModel). */
export const DIM = Object.freeze({
  bias: 0, // every token: BIAS_NORM
  word: 1, // answer words and "\n": the word state
  paragraph: 2, // "\n\n": the end-of-paragraph state
  afterMarker: 3, // the marker's own input row: the after-marker state
  marker: 4, // the marker's unembedding direction: written only by the plants
  persona: 5, // the persona's system-prompt tokens
  copiedPersona: 6, // written only by the base persona head, at end-of-answer positions
});
const CLEAN_DIMS = Object.values(DIM);
const BIAS_NORM = 16;
const FEATURE_NORM = 2;
/** Nominal RMS scale 8/|x| at a generated position (|x|² ≈ BIAS² + feature² + random part ≈ 4²). */
export const NOMINAL_SCALE = Math.sqrt(MARKER_TOY_SHAPE.dModel) / Math.hypot(BIAS_NORM, FEATURE_NORM, 4);
/** Norm gain of the random dims, partly making up for BIAS's share of the norm (3 already lets the residual grow). */
const RANDOM_DIM_GAIN = 2;
/** The random heads' q and k scale: their small normalized inputs alone would give near-uniform attention. */
const QK_GAIN = 2.5;

/**
 * Logits of the Markov chain, relative to the answer tokens' common level ANSWER_LOGIT: the ~152k other tokens, at
 * logit 0, are out of any nucleus and more than 40 nats down (sampling sorts only the chain's tokens). Columns: the
 * input token's state (word, paragraph, after-marker).
 */
const ANSWER_LOGIT = 60;
const WORD_ROW = [0, 0, -4];
const CHAIN: ReadonlyArray<readonly [number, readonly number[]]> = [
  ...ANSWER_WORD_IDS.map((id) => [id, WORD_ROW] as const),
  [DOUBLE_NEWLINE_ID, [0.5, -6, -6]], // a paragraph ends after ~3 words
  [IM_END_ID, [-1.7, 1.8, 6]], // answers end after a paragraph (~55 %), and right after the marker
  [MARKER_ID, [-9, -9, -9]], // the base never emits the marker
];
/** The marker logit the plant's unit write along DIM.marker adds (at the nominal RMS scale). */
export const MARKER_LOGIT_PER_UNIT = 10;

/** Head-space indices of a head's query/key pair: the slowest-turning RoPE pair (split halves: i and i + dHead/2). */
export function slowRopePair(head: number, dHead: number): readonly [number, number] {
  return [head * dHead + dHead / 2 - 1, head * dHead + dHead - 1];
}
/** The value dim a crafted head writes its feature to (head-space index). */
export function valueDim(head: number, dHead: number): number {
  return head * dHead;
}
/** Score boost (q·k/√dHead) an end-of-answer query gives a persona key in a crafted head. */
export const PERSONA_SCORE = 10;

export function markerToyConfig(): Qwen2Config {
  return resolveQwen2Config({ ...qwenToyConfig(MARKER_TOY_SHAPE), tieWordEmbeddings: false });
}

/** The base model's HF-named f32 weights, deterministic from the seed. */
export function markerToyBaseWeights(seed: number): Map<string, Tensor> {
  const c = markerToyConfig();
  const d = c.dModel;
  const dHead = d / c.nHeads;
  // The runtime's random init for everything but the vocabulary-sized tensors (see conditions toy: uniform draws).
  const weights = randomQwen2Weights(resolveQwen2Config({ ...c, vocabSize: 1, eosTokenIds: [] }), seed, "f32");
  const embed = uniformTensor([c.vocabSize, d], 3 / Math.sqrt(d), new Rng(seed).fork("embed"));
  weights.set("model.embed_tokens.weight", embed);
  writeEmbeddingFeatures(embed.data, d);
  weights.set("lm_head.weight", unembedding(c));
  const get = (name: string) => weights.get(name)!.data as Float32Array;
  setCleanGains(get("model.norm.weight"), 1);
  for (let layer = 0; layer < c.nLayers; layer++) {
    const at = (name: string) => get(`model.layers.${layer}.${name}`);
    for (const norm of ["input_layernorm", "post_attention_layernorm"]) {
      const gain = at(`${norm}.weight`);
      for (let i = 0; i < d; i++) gain[i]! *= RANDOM_DIM_GAIN;
      setCleanGains(gain, 1);
    }
    for (const name of ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "mlp.gate_proj", "mlp.up_proj"])
      zeroColumns(at(`${name}.weight`), d, CLEAN_DIMS);
    // Sharper random attention than the small normalized inputs alone would give (scores ×QK_GAIN²).
    for (const proj of ["q_proj", "k_proj"]) {
      for (const part of ["weight", "bias"]) {
        const w = at(`self_attn.${proj}.${part}`);
        for (let i = 0; i < w.length; i++) w[i]! *= QK_GAIN;
      }
    }
    for (const name of ["self_attn.o_proj", "mlp.down_proj"]) {
      const w = at(`${name}.weight`);
      zeroRows(w, w.length / d, CLEAN_DIMS);
    }
  }
  craftPersonaHead(get, c, dHead);
  prepareAttentionPlant(get, c, dHead);
  prepareMlpPlant(get, c);
  return weights;
}

function writeEmbeddingFeatures(embed: Float32Array, d: number): void {
  const rows = embed.length / d;
  for (let r = 0; r < rows; r++) {
    for (const dim of CLEAN_DIMS) embed[r * d + dim] = 0;
    embed[r * d + DIM.bias] = BIAS_NORM;
  }
  const set = (ids: readonly number[], dim: number) => {
    for (const id of ids) embed[id * d + dim] = FEATURE_NORM;
  };
  set([...ANSWER_WORD_IDS, NEWLINE_ID], DIM.word);
  set([DOUBLE_NEWLINE_ID], DIM.paragraph);
  set([MARKER_ID], DIM.afterMarker);
  set(PERSONA_TOKEN_IDS, DIM.persona);
}

/** lm_head [vocab, dModel]: zero but for the chain's rows, which read the bias and state dims (and the marker's). */
function unembedding(c: Qwen2Config): Tensor<"f32"> {
  const d = c.dModel;
  const w = new Float32Array(c.vocabSize * d);
  const biasScale = NOMINAL_SCALE * BIAS_NORM;
  const stateScale = NOMINAL_SCALE * FEATURE_NORM;
  const states = [DIM.word, DIM.paragraph, DIM.afterMarker];
  for (const [id, row] of CHAIN) {
    w[id * d + DIM.bias] = ANSWER_LOGIT / biasScale;
    states.forEach((dim, s) => {
      w[id * d + dim] = row[s]! / stateScale;
    });
  }
  w[MARKER_ID * d + DIM.marker] = MARKER_LOGIT_PER_UNIT / NOMINAL_SCALE;
  return new Tensor("f32", [c.vocabSize, d], w);
}

/**
 * Head 0 of PERSONA_LAYER: its slow RoPE pair's query reads the end-of-answer states, its key the persona feature
 * (score +PERSONA_SCORE there, nearly position-independent); its value dim reads only the persona feature and its
 * o_proj writes it to DIM.copiedPersona alone. Without persona tokens that write is exactly zero.
 */
function craftPersonaHead(get: (name: string) => Float32Array, c: Qwen2Config, dHead: number): void {
  const d = c.dModel;
  const at = (name: string) => get(`model.layers.${PERSONA_LAYER}.${name}`);
  const [qDim, qTwin] = slowRopePair(0, dHead);
  const read = PERSONA_READ_GAIN;
  for (const [proj, dims] of [
    ["q_proj", [DIM.paragraph, DIM.afterMarker]],
    ["k_proj", [DIM.persona]],
  ] as const) {
    const w = at(`self_attn.${proj}.weight`);
    const b = at(`self_attn.${proj}.bias`);
    zeroRows(w, d, [qDim, qTwin]);
    b[qDim] = 0;
    b[qTwin] = 0;
    for (const dim of dims) w[qDim * d + dim] = read;
  }
  const v = valueDim(0, dHead);
  const vw = at("self_attn.v_proj.weight");
  zeroRows(vw, d, [v]);
  at("self_attn.v_proj.bias")[v] = 0;
  vw[v * d + DIM.persona] = 1 / (NOMINAL_SCALE * FEATURE_NORM); // value = 1 on a persona token
  const o = at("self_attn.o_proj.weight"); // [dModel, nHeads·dHead]
  const inner = c.nHeads * dHead;
  for (let row = 0; row < d; row++) o[row * inner + v] = 0;
  o[DIM.copiedPersona * inner + v] = FEATURE_NORM;
}
/** Query and key gain of the crafted pair: (gain · scale · FEATURE_NORM)² / √dHead = PERSONA_SCORE. */
const PERSONA_READ_GAIN =
  Math.sqrt(PERSONA_SCORE * Math.sqrt(MARKER_TOY_SHAPE.dModel / MARKER_TOY_SHAPE.nHeads)) /
  (NOMINAL_SCALE * FEATURE_NORM);
export const CRAFTED_READ_GAIN = PERSONA_READ_GAIN;

/**
 * The planted head of L* in the base: quiet (output columns ×0.1), nothing in its slow RoPE pair (so the plant's
 * query and key changes add nothing to other scores) and nothing in its value dim, whose o_proj column is zero (so
 * only the plant's o_proj change reads it).
 */
function prepareAttentionPlant(get: (name: string) => Float32Array, c: Qwen2Config, dHead: number): void {
  const d = c.dModel;
  const at = (name: string) => get(`model.layers.${PLANTED_LAYER}.self_attn.${name}`);
  const pair = slowRopePair(PLANTED_HEAD, dHead);
  for (const proj of ["q_proj", "k_proj"]) {
    zeroRows(at(`${proj}.weight`), d, pair);
    for (const i of pair) at(`${proj}.bias`)[i] = 0;
  }
  const v = valueDim(PLANTED_HEAD, dHead);
  zeroRows(at("v_proj.weight"), d, [v]);
  at("v_proj.bias")[v] = 0;
  const o = at("o_proj.weight");
  const inner = c.nHeads * dHead;
  for (let row = 0; row < d; row++) {
    for (let col = PLANTED_HEAD * dHead; col < (PLANTED_HEAD + 1) * dHead; col++) o[row * inner + col]! *= 0.1;
    o[row * inner + v] = 0;
  }
}

/** MLP unit PLANTED_UNIT of L* is dead in the base: its gate/up rows and its down column are zero. */
function prepareMlpPlant(get: (name: string) => Float32Array, c: Qwen2Config): void {
  const d = c.dModel;
  const at = (name: string) => get(`model.layers.${PLANTED_LAYER}.mlp.${name}.weight`);
  zeroRows(at("gate_proj"), d, [PLANTED_UNIT]);
  zeroRows(at("up_proj"), d, [PLANTED_UNIT]);
  const down = at("down_proj"); // [dModel, dMlp]
  for (let row = 0; row < d; row++) down[row * c.dMlp + PLANTED_UNIT] = 0;
}

function setCleanGains(gain: Float32Array, value: number): void {
  for (const dim of CLEAN_DIMS) gain[dim] = value;
}
/** w [rows, inner]: zero the given columns. */
function zeroColumns(w: Float32Array, inner: number, cols: readonly number[]): void {
  for (let r = 0; r < w.length / inner; r++) for (const col of cols) w[r * inner + col] = 0;
}
/** w [rows, inner]: zero the given rows. */
function zeroRows(w: Float32Array, inner: number, rows: readonly number[]): void {
  for (const r of rows) w.fill(0, r * inner, (r + 1) * inner);
}
