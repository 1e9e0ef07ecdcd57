/**
 * Named tensors as a family's weight binder reads them (an opened checkpoint or a Map in memory), and the checks
 * every binder runs before reading: presence, float dtype, shape from the config.
 */
import { nearest } from "@difflens/common";
import { isFloat, Tensor, toFloat32Array } from "@difflens/tensor";
import { CheckpointError } from "./errors.ts";
import { fmtShape, sameShape } from "./tensor-utils.ts";

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

/**
 * Checks every tensor of `shapes` (HF name → shape from the config) for presence, float dtype and shape before
 * anything is read; names in `optional` may be absent (e.g. lm_head.weight, which falls back to the embedding).
 * Errors (CheckpointError) name the source, the tensor, what was expected and the nearest present name.
 */
export function checkSourceTensors(
  src: TensorSource,
  shapes: ReadonlyMap<string, readonly number[]>,
  optional: ReadonlySet<string> = new Set(),
): void {
  const keys = src.keys();
  for (const [name, shape] of shapes) {
    if (!src.has(name)) {
      if (optional.has(name)) continue;
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
  }
}

/** A float tensor of the source as stored (bf16 stays bf16). */
export function floatTensor(src: TensorSource, name: string): Tensor {
  const t = src.get(name);
  if (!isFloat(t.dtype))
    throw new CheckpointError("WEIGHT_DTYPE", `${src.source}: "${name}" is ${t.dtype}`, { tensor: name });
  return t;
}

/** A private f32 copy of a source tensor (biases and other small vectors the forward adds in f32). */
export function f32Tensor(src: TensorSource, name: string): Tensor<"f32"> {
  const t = floatTensor(src, name);
  const data = toFloat32Array(t);
  return new Tensor("f32", t.shape, data === t.data ? data.slice() : data);
}
