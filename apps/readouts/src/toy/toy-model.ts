/**
 * The toy's model: a small random Qwen2 whose model-default system prompt is planted (app-kit's marker-head plant,
 * delivered as a PEFT LoRA). The marker is " Alibaba" (one token, 54364): Qwen2.5's default system prompt "You are
 * Qwen, created by Alibaba Cloud. …" holds it and no other condition does, so under the planted condition head 0 of
 * layer 0 attends to it and writes δ·u at every later position, the readout positions included; under the other
 * conditions the planted model's activations are the base model's up to float rounding.
 */
import {
  type LoraFactor,
  MARKER_HEAD_GAINS,
  type MarkerHeadDirections,
  markerHeadDirections,
  markerHeadLora,
  markerRead,
  prepareMarkerHeadBase,
  qwenToyConfig,
} from "@difflens/app-kit";
import { type ChatTemplate, parseSystemCondition, tokenizeChat } from "@difflens/chat";
import { type Model, type Qwen2Config, randomQwen2Weights, resolveQwen2Config } from "@difflens/runtime";
import { Rng, Tensor } from "@difflens/tensor";
import type { Tokenizer } from "@difflens/tokenizer";

/** Shape of the conditions toy: a 4-layer Qwen2 with d_model 64; readouts after layers 1, 2 and 3. */
export const CONDITIONS_TOY_SHAPE = Object.freeze({ dModel: 64, nLayers: 4, nHeads: 4, dMlp: 192 });
export const CONDITIONS_TOY_LAYERS: readonly number[] = Object.freeze([1, 2, 3]);
/** The seed's four conditions; the first carries the plant (Qwen2.5's own default system prompt). */
export const CONDITIONS_TOY_CONDITIONS: readonly string[] = Object.freeze([
  "model-default",
  "custom:You are a helpful assistant.",
  "empty",
  "no-system-turn",
]);
export const ALIBABA_TOKEN_ID = 54364; // " Alibaba"
/** The plant's norm at the first readout layer, as a multiple of the median residual norm there (base model). */
export const PLANT_SCALE = 2;

export function conditionsToyConfig(): Qwen2Config {
  return qwenToyConfig(CONDITIONS_TOY_SHAPE);
}

export function conditionsToyDirections(seed: number): MarkerHeadDirections {
  const s = CONDITIONS_TOY_SHAPE;
  return markerHeadDirections(seed, s.dModel, s.dModel / s.nHeads);
}

/**
 * The base model's HF-named f32 weights: marker row on " Alibaba", head 0 of layer 0 ready for the plant, and u a
 * direction of the residual stream that no attention head or MLP writes or reads (only the embeddings, the norms'
 * scale and the tied unembedding see it). So at a given token the residual's component along u is its embedding's
 * whatever the context, the plant moves it by the plant alone (the u latent's change across conditions is nearly the
 * same for every prompt, while other latents' changes carry the prompts' variation), and the layers after the plant
 * react to it only through their norms: removing u from the residual undoes most of the plant's effect on the logits.
 */
export function conditionsToyBaseWeights(seed: number): Map<string, Tensor> {
  const config = conditionsToyConfig();
  // The runtime's random init for everything but the embedding, whose 9.7M entries (97% of the toy) are drawn
  // uniform with the runtime's std (3/√dModel) from raw 32-bit draws: Box–Muller normals take most of a second.
  const small = resolveQwen2Config({ ...config, vocabSize: 1, eosTokenIds: [] });
  const weights = randomQwen2Weights(small, seed, "f32");
  const embedStd = 3 / Math.sqrt(config.dModel);
  weights.set(
    "model.embed_tokens.weight",
    uniformTensor([config.vocabSize, config.dModel], embedStd, new Rng(seed).fork("embed")),
  );
  const dirs = conditionsToyDirections(seed);
  prepareMarkerHeadBase(config, weights, dirs, [ALIBABA_TOKEN_ID]);
  // Head 0's query along f is its bias alone at every position, so every readout position finds the marker (a
  // query that happened to point against f at the last prompt token would miss it).
  const qProj = weights.get("model.layers.0.self_attn.q_proj.weight")!.data as Float32Array; // head 0 = first dHead rows
  projectOutputsOff(qProj.subarray(0, dirs.keyDir.length * config.dModel), config.dModel, dirs.keyDir);
  for (let layer = 0; layer < config.nLayers; layer++) {
    const at = (name: string) => weights.get(`model.layers.${layer}.${name}`)!;
    for (const name of ["self_attn.o_proj", "mlp.down_proj"]) {
      const w = at(`${name}.weight`);
      projectOutputsOff(w.data as Float32Array, w.shape[1]!, dirs.planted);
    }
    for (const [norm, names] of [
      ["input_layernorm", ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"]],
      ["post_attention_layernorm", ["mlp.gate_proj", "mlp.up_proj"]],
    ] as const) {
      const gain = at(`${norm}.weight`).data as Float32Array;
      for (const name of names) projectInputsOff(at(`${name}.weight`).data as Float32Array, gain, dirs.planted);
    }
  }
  return weights;
}

/**
 * w [rows, dModel] reads x̂ = gain ⊙ x / rms(x); afterwards w·x̂ ignores x's component along u (unit [dModel]):
 * each row loses c·(u ⊘ gain) with c = Σ_i w_i·gain_i·u_i.
 */
function projectInputsOff(w: Float32Array, gain: Float32Array, u: Float32Array): void {
  const d = u.length;
  for (let r = 0; r < w.length / d; r++) {
    let c = 0;
    for (let i = 0; i < d; i++) c += w[r * d + i]! * gain[i]! * u[i]!;
    for (let i = 0; i < d; i++) w[r * d + i]! -= (c * u[i]!) / gain[i]!;
  }
}

/** Uniform entries with mean 0 and the given std. → [shape] */
export function uniformTensor(shape: readonly number[], std: number, rng: Rng): Tensor<"f32"> {
  const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
  const scale = (std * Math.sqrt(12)) / 4294967296;
  for (let i = 0; i < out.length; i++) out[i] = (rng.nextU32() - 2147483648) * scale;
  return new Tensor("f32", shape, out);
}

/** w [rows, inner] ← (I − u·uᵀ)·w (u unit [rows]): w's outputs never have a component along u. */
function projectOutputsOff(w: Float32Array, inner: number, u: Float32Array): void {
  const along = new Float64Array(inner);
  for (let i = 0; i < u.length; i++) for (let c = 0; c < inner; c++) along[c]! += u[i]! * w[i * inner + c]!;
  for (let i = 0; i < u.length; i++) for (let c = 0; c < inner; c++) w[i * inner + c]! -= u[i]! * along[c]!;
}

/** The plant's LoRA factors, δ set so the plant's norm is `plantNorm` where attention is all on the marker. */
export function conditionsToyPlant(seed: number, base: ReadonlyMap<string, Tensor>, plantNorm: number): LoraFactor[] {
  const config = conditionsToyConfig();
  const dirs = conditionsToyDirections(seed);
  const outputGain = plantNorm / (MARKER_HEAD_GAINS.valueGain * markerRead(config, base, dirs, ALIBABA_TOKEN_ID)); // δ
  return markerHeadLora(config, base, dirs, outputGain);
}

/** Neutral prompts the toy's SAEs and plant scale are calibrated on (not the app's built-in prompt set). */
const CALIBRATION_PROMPTS: readonly string[] = [
  "Name three rivers in Europe.",
  "How do I boil an egg?",
  "Write a haiku about autumn leaves.",
  "What is the capital of Canada?",
  "Explain photosynthesis in one sentence.",
  "Suggest a name for a small bakery.",
  "How many legs does a spider have?",
  "Translate 'good morning' into French.",
  "Give me a tip for learning to juggle.",
  "Why is the sky blue?",
  "List two uses for baking soda.",
  "Describe the smell of rain.",
  "What rhymes with orange?",
  "Summarise the plot of Cinderella in a line.",
  "Recommend a board game for four players.",
  "What is 17 times 3?",
];

/**
 * Residual activations of `model` at each hook, at every position of the calibration prompts rendered under
 * each of the toy's conditions. → per hook [rows, dModel]
 */
export async function calibrationActivations(
  model: Model,
  tokenizer: Tokenizer,
  template: ChatTemplate,
  hooks: readonly string[],
): Promise<Map<string, Float32Array>> {
  const parts = new Map<string, Float32Array[]>(hooks.map((h) => [h, []]));
  for (const condition of CONDITIONS_TOY_CONDITIONS) {
    for (const prompt of CALIBRATION_PROMPTS) {
      const chat = await tokenizeChat(tokenizer, template, [{ role: "user", content: prompt }], {
        condition: parseSystemCondition(condition),
        addGenerationPrompt: true,
      });
      const { cache } = await model.runWithCache([Array.from(chat.ids)], { names: [...hooks], logits: "none" });
      for (const h of hooks) parts.get(h)!.push(Float32Array.from(cache.get(h).data as Float32Array));
    }
  }
  return new Map([...parts].map(([h, list]) => [h, concat(list)]));
}

function concat(list: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(list.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of list) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}
