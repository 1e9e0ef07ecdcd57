/**
 * Binding an HF checkpoint's decoder tensors to our fields, for every family: a family lists one layer's tensors
 * (`LayerSpec`s: field, HF name, shape) in its own weight file; shapes, checks, binding, entries back to HF names,
 * the LoRA module list and the default random-init scales are the same logic for all and live here.
 */
import type { Tensor } from "@difflens/tensor";
import { checkSourceTensors, f32Tensor, floatTensor, type TensorSource } from "../../tensor-source.ts";
import type { DecoderConfig, DecoderLayerWeights, DecoderWeights } from "../model-family.ts";

/** One tensor of a layer: our field, its HF name, its shape; `f32` reads it as a private f32 copy (biases). */
export interface LayerSpec {
  /** The field of the family's layer-weights interface. */
  readonly key: string;
  readonly name: string;
  readonly shape: number[];
  readonly f32?: boolean;
}

/** A family's layer map: block L's tensors, in checkpoint order. */
export type LayerSpecs = (c: DecoderConfig, L: number) => readonly LayerSpec[];

/** Every HF tensor name the checkpoint needs (lm_head.weight only when untied) with its shape. */
export function decoderWeightShapes(c: DecoderConfig, specs: LayerSpecs): Map<string, number[]> {
  const out = new Map<string, number[]>();
  out.set("model.embed_tokens.weight", [c.vocabSize, c.dModel]);
  for (let L = 0; L < c.nLayers; L++) for (const { name, shape } of specs(c, L)) out.set(name, shape);
  out.set("model.norm.weight", [c.dModel]);
  if (!c.tieWordEmbeddings) out.set("lm_head.weight", [c.vocabSize, c.dModel]);
  return out;
}

/**
 * Checks every needed tensor's presence, dtype and shape (before anything is read), then binds them; matrices stay
 * in their stored dtype. A missing `lm_head.weight` on an untied config falls back to the embedding (as HF does
 * when it is absent).
 */
export function bindDecoderWeights<Layer extends DecoderLayerWeights>(
  c: DecoderConfig,
  src: TensorSource,
  specs: LayerSpecs,
): DecoderWeights & { readonly layers: readonly Layer[] } {
  checkSourceTensors(src, decoderWeightShapes(c, specs), new Set(["lm_head.weight"]));
  const layers: Layer[] = [];
  for (let L = 0; L < c.nLayers; L++) {
    const entry: Record<string, Tensor> = {};
    for (const { key, name, f32 } of specs(c, L)) entry[key] = f32 ? f32Tensor(src, name) : floatTensor(src, name);
    layers.push(entry as unknown as Layer);
  }
  const embedTokens = floatTensor(src, "model.embed_tokens.weight");
  const lmHead = !c.tieWordEmbeddings && src.has("lm_head.weight") ? floatTensor(src, "lm_head.weight") : embedTokens;
  return { embedTokens, layers, finalNorm: floatTensor(src, "model.norm.weight"), lmHead };
}

/** The weights back under their HF names (what saving and LoRA merges read); lm_head only when untied. */
export function decoderWeightEntries(c: DecoderConfig, w: DecoderWeights, specs: LayerSpecs): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  out.set("model.embed_tokens.weight", w.embedTokens);
  for (let L = 0; L < c.nLayers; L++) {
    const layer = w.layers[L] as unknown as Readonly<Record<string, Tensor>>;
    for (const { key, name } of specs(c, L)) out.set(name, layer[key]!);
  }
  out.set("model.norm.weight", w.finalNorm);
  if (!c.tieWordEmbeddings) out.set("lm_head.weight", w.lmHead);
  return out;
}

/** One layer's attention projections (`bias`: Qwen2's q/k/v biases; `qkNorm`: Qwen3 / Gemma 3's per-head norms). */
export function attentionSpecs(
  c: DecoderConfig,
  L: number,
  opts: { readonly bias?: boolean; readonly qkNorm?: boolean } = {},
): LayerSpec[] {
  const p = `model.layers.${L}.self_attn.`;
  const q = c.nHeads * c.dHead;
  const kv = c.nKvHeads * c.dHead;
  const proj = (x: "q" | "k" | "v", rows: number): LayerSpec[] => [
    { key: `${x}Proj`, name: `${p}${x}_proj.weight`, shape: [rows, c.dModel] },
    ...(opts.bias ? [{ key: `${x}Bias`, name: `${p}${x}_proj.bias`, shape: [rows], f32: true }] : []),
  ];
  return [
    ...proj("q", q),
    ...proj("k", kv),
    ...proj("v", kv),
    ...(opts.qkNorm
      ? [
          { key: "qNorm", name: `${p}q_norm.weight`, shape: [c.dHead] },
          { key: "kNorm", name: `${p}k_norm.weight`, shape: [c.dHead] },
        ]
      : []),
    { key: "oProj", name: `${p}o_proj.weight`, shape: [c.dModel, q] },
  ];
}

/** One layer's gated MLP. */
export function mlpSpecs(c: DecoderConfig, L: number): LayerSpec[] {
  const p = `model.layers.${L}.mlp.`;
  return [
    { key: "gateProj", name: `${p}gate_proj.weight`, shape: [c.dMlp, c.dModel] },
    { key: "upProj", name: `${p}up_proj.weight`, shape: [c.dMlp, c.dModel] },
    { key: "downProj", name: `${p}down_proj.weight`, shape: [c.dModel, c.dMlp] },
  ];
}

/** A [dModel] norm weight of layer L under its HF name (`input_layernorm`, `post_attention_layernorm`, …). */
export function normSpec(c: DecoderConfig, L: number, key: string, hfName: string): LayerSpec {
  return { key, name: `model.layers.${L}.${hfName}.weight`, shape: [c.dModel] };
}

/** LoRA-targetable linear modules under `model.layers.<L>.` (every family's seven projections). */
export const DECODER_LINEAR_MODULES: readonly string[] = Object.freeze([
  "self_attn.q_proj",
  "self_attn.k_proj",
  "self_attn.v_proj",
  "self_attn.o_proj",
  "mlp.gate_proj",
  "mlp.up_proj",
  "mlp.down_proj",
]);

/**
 * Random-model init (std, mean of each HF tensor) of the plain pre-norm decoders (Qwen2, Llama, Qwen3), chosen so
 * activations look like a trained model's through 2–8+ layers: projections read unit-RMS inputs with std 1/√fanIn
 * (q, k, v, gate, up ≈ unit scale, attention neither uniform nor one-hot), output projections (o, down) are shrunk
 * by √(2/nLayers) so the residual stream grows to O(1) without exploding, the embedding is small (3/√dModel, so tied
 * logits have std ≈ 3), norms (q/k norms too) are 1 + N(0, 0.1) and q/k/v biases N(0, 0.3) so a wrongly applied
 * norm weight or bias shows up in tests.
 */
export function decoderInitStd(
  name: string,
  shape: readonly number[],
  c: DecoderConfig,
): { std: number; mean: number } {
  const fanIn = shape[shape.length - 1]!;
  if (name.endsWith("norm.weight")) return { std: 0.1, mean: 1 };
  if (name.endsWith(".bias")) return { std: 0.3, mean: 0 };
  if (name === "model.embed_tokens.weight" || name === "lm_head.weight")
    return { std: 3 / Math.sqrt(c.dModel), mean: 0 };
  if (name.endsWith("o_proj.weight") || name.endsWith("down_proj.weight"))
    return { std: Math.sqrt(2 / c.nLayers) / Math.sqrt(fanIn), mean: 0 };
  return { std: 1 / Math.sqrt(fanIn), mean: 0 };
}
