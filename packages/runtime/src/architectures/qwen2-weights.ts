import { nearest } from "@difflens/common";
import { isFloat, Tensor, toFloat32Array } from "@difflens/tensor";
import type { Qwen2Config } from "../config/qwen2-config.ts";
import { CheckpointError } from "../errors.ts";
import { fmtShape, sameShape } from "../tensor-utils.ts";

/** One decoder block's weights. Matrices stay in their stored dtype (bf16 for real checkpoints); biases are f32. */
export interface Qwen2LayerWeights {
  readonly inputNorm: Tensor; // [dModel]
  readonly qProj: Tensor; // [nHeads·dHead, dModel]
  readonly qBias: Tensor<"f32">; // [nHeads·dHead]
  readonly kProj: Tensor; // [nKvHeads·dHead, dModel]
  readonly kBias: Tensor<"f32">; // [nKvHeads·dHead]
  readonly vProj: Tensor; // [nKvHeads·dHead, dModel]
  readonly vBias: Tensor<"f32">; // [nKvHeads·dHead]
  readonly oProj: Tensor; // [dModel, nHeads·dHead]
  readonly postNorm: Tensor; // [dModel]
  readonly gateProj: Tensor; // [dMlp, dModel]
  readonly upProj: Tensor; // [dMlp, dModel]
  readonly downProj: Tensor; // [dModel, dMlp]
}

export interface Qwen2Weights {
  readonly embedTokens: Tensor; // [vocab, dModel]
  readonly layers: readonly Qwen2LayerWeights[];
  readonly finalNorm: Tensor; // [dModel]
  /** The unembedding; the same tensor as embedTokens when tied (or when lm_head.weight is absent). */
  readonly lmHead: Tensor; // [vocab, dModel]
}

/** Anything that serves named tensors: an opened checkpoint, or a Map in memory. */
export interface TensorSource {
  keys(): string[];
  has(name: string): boolean;
  /** Shape and dtype without reading data. */
  info(name: string): { readonly dtype: string; readonly shape: readonly number[] };
  get(name: string): Tensor;
  /** Where the tensors come from, for error messages. */
  readonly source: string;
}

export function mapSource(
  tensors: ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>,
  source = "<memory>",
): TensorSource {
  const map = tensors instanceof Map ? tensors : new Map(Object.entries(tensors));
  return {
    source,
    keys: () => [...map.keys()],
    has: (name) => map.has(name),
    info: (name) => {
      const t = map.get(name);
      if (!t)
        throw new CheckpointError("WEIGHT_MISSING", `${source}: no tensor "${name}"`, { file: source, tensor: name });
      return { dtype: t.dtype, shape: t.shape };
    },
    get: (name) => map.get(name)!,
  };
}

type LayerKey = keyof Qwen2LayerWeights;

/** HF tensor names of one layer, with their shapes. */
function layerSpecs(c: Qwen2Config, L: number): Array<[LayerKey, string, number[]]> {
  const p = `model.layers.${L}.`;
  const q = c.nHeads * c.dHead;
  const kv = c.nKvHeads * c.dHead;
  return [
    ["inputNorm", `${p}input_layernorm.weight`, [c.dModel]],
    ["qProj", `${p}self_attn.q_proj.weight`, [q, c.dModel]],
    ["qBias", `${p}self_attn.q_proj.bias`, [q]],
    ["kProj", `${p}self_attn.k_proj.weight`, [kv, c.dModel]],
    ["kBias", `${p}self_attn.k_proj.bias`, [kv]],
    ["vProj", `${p}self_attn.v_proj.weight`, [kv, c.dModel]],
    ["vBias", `${p}self_attn.v_proj.bias`, [kv]],
    ["oProj", `${p}self_attn.o_proj.weight`, [c.dModel, q]],
    ["postNorm", `${p}post_attention_layernorm.weight`, [c.dModel]],
    ["gateProj", `${p}mlp.gate_proj.weight`, [c.dMlp, c.dModel]],
    ["upProj", `${p}mlp.up_proj.weight`, [c.dMlp, c.dModel]],
    ["downProj", `${p}mlp.down_proj.weight`, [c.dModel, c.dMlp]],
  ];
}

/** Every HF tensor name a Qwen2 checkpoint needs (lm_head.weight only when untied) with its shape. */
export function qwen2WeightShapes(c: Qwen2Config): Map<string, number[]> {
  const out = new Map<string, number[]>();
  out.set("model.embed_tokens.weight", [c.vocabSize, c.dModel]);
  for (let L = 0; L < c.nLayers; L++) for (const [, name, shape] of layerSpecs(c, L)) out.set(name, shape);
  out.set("model.norm.weight", [c.dModel]);
  if (!c.tieWordEmbeddings) out.set("lm_head.weight", [c.vocabSize, c.dModel]);
  return out;
}

/**
 * Checks every needed tensor's presence, dtype and shape (before anything is read), then binds them.
 * Missing `lm_head.weight` on an untied config falls back to the embedding (as HF does when it is absent).
 */
export function bindQwen2Weights(c: Qwen2Config, src: TensorSource): Qwen2Weights {
  const keys = src.keys();
  const check = (name: string, shape: readonly number[]): void => {
    if (!src.has(name)) {
      const near = nearest(name, keys);
      throw new CheckpointError(
        "WEIGHT_MISSING",
        `${src.source}: missing weight "${name}" (expected shape ${fmtShape(shape)})${near ? `; nearest present: "${near}"` : ""}`,
        { file: src.source, tensor: name, expected: shape },
      );
    }
    const info = src.info(name);
    const dtype = String(info.dtype).toLowerCase();
    if (!["f32", "bf16", "f16"].includes(dtype)) {
      throw new CheckpointError(
        "WEIGHT_DTYPE",
        `${src.source}: weight "${name}" has dtype ${info.dtype}; expected f32, bf16 or f16`,
        { file: src.source, tensor: name, got: info.dtype },
      );
    }
    if (!sameShape(info.shape, shape)) {
      throw new CheckpointError(
        "WEIGHT_SHAPE",
        `${src.source}: weight "${name}" has shape ${fmtShape(info.shape)}, expected ${fmtShape(shape)} from the config`,
        { file: src.source, tensor: name, expected: shape, got: info.shape },
      );
    }
  };
  const shapes = qwen2WeightShapes(c);
  const lmHeadPresent = src.has("lm_head.weight");
  for (const [name, shape] of shapes) {
    if (name === "lm_head.weight" && !lmHeadPresent) continue;
    check(name, shape);
  }
  const get = (name: string): Tensor => {
    const t = src.get(name);
    if (!isFloat(t.dtype))
      throw new CheckpointError("WEIGHT_DTYPE", `${src.source}: "${name}" is ${t.dtype}`, { tensor: name });
    return t;
  };
  const asF32 = (name: string): Tensor<"f32"> => {
    const t = get(name);
    const data = toFloat32Array(t);
    return new Tensor("f32", t.shape, data === t.data ? data.slice() : data);
  };
  const layers: Qwen2LayerWeights[] = [];
  for (let L = 0; L < c.nLayers; L++) {
    const entry: Partial<Record<LayerKey, Tensor>> = {};
    for (const [key, name] of layerSpecs(c, L)) entry[key] = key.endsWith("Bias") ? asF32(name) : get(name);
    layers.push(entry as unknown as Qwen2LayerWeights);
  }
  const embedTokens = get("model.embed_tokens.weight");
  const lmHead = !c.tieWordEmbeddings && lmHeadPresent ? get("lm_head.weight") : embedTokens;
  return { embedTokens, layers, finalNorm: get("model.norm.weight"), lmHead };
}

/** The weights back under their HF names (what a checkpoint writer saves); lm_head only when untied. */
export function qwen2WeightEntries(c: Qwen2Config, w: Qwen2Weights): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  out.set("model.embed_tokens.weight", w.embedTokens);
  for (let L = 0; L < c.nLayers; L++) for (const [key, name] of layerSpecs(c, L)) out.set(name, w.layers[L]![key]);
  out.set("model.norm.weight", w.finalNorm);
  if (!c.tieWordEmbeddings) out.set("lm_head.weight", w.lmHead);
  return out;
}
