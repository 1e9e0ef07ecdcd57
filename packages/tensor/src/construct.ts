import { bf16ArrayToF32, bf16FromF32Bits, f16ArrayToF32, f16FromF32Bits, f32Bits, f32FromBits } from "./convert.ts";
import type { DType, Storage } from "./dtype.ts";
import { TensorError } from "./errors.ts";
import type { Rng } from "./rng.ts";
import { ShapeError, shapeSize, Tensor } from "./tensor.ts";

/** A fresh typed array for `size` elements of `dtype`, zero-filled. */
export function allocStorage<D extends DType>(dtype: D, size: number): Storage<D> {
  switch (dtype) {
    case "f32":
      return new Float32Array(size) as Storage<D>;
    case "f16":
    case "bf16":
      return new Uint16Array(size) as Storage<D>;
    case "i32":
      return new Int32Array(size) as Storage<D>;
    case "i64":
      return new BigInt64Array(size) as Storage<D>;
    case "u8":
    case "bool":
      return new Uint8Array(size) as Storage<D>;
    default:
      throw new TensorError(
        "UNKNOWN_DTYPE",
        `unknown dtype ${String(dtype)}; expected one of f32, f16, bf16, i32, i64, u8, bool`,
      );
  }
}

/** A tensor of zeros (all-zero bits, which is 0 for every dtype). */
export function zeros<D extends DType = "f32">(shape: readonly number[], dtype: D = "f32" as D): Tensor<D> {
  return new Tensor(dtype, shape, allocStorage(dtype, shapeSize(shape)));
}

/**
 * A tensor holding `values` converted to `dtype`: numbers are rounded to f32 first, then to f16/bf16 by
 * round-to-nearest-even; integers must be integral and in range. Always copies.
 */
export function fromArray<D extends DType = "f32">(
  values: ArrayLike<number> | ArrayLike<bigint>,
  shape: readonly number[],
  dtype: D = "f32" as D,
): Tensor<D> {
  const size = shapeSize(shape);
  if (values.length !== size) {
    throw new ShapeError(
      `fromArray: ${values.length} values do not fill shape [${shape.join(", ")}] (${size} elements)`,
    );
  }
  const out = allocStorage(dtype, size);
  for (let i = 0; i < size; i++) {
    const v = values[i]!;
    switch (dtype) {
      case "f32":
        (out as Float32Array)[i] = Number(v);
        break;
      case "bf16":
        (out as Uint16Array)[i] = bf16FromF32Bits(f32Bits(Number(v)));
        break;
      case "f16":
        (out as Uint16Array)[i] = f16FromF32Bits(f32Bits(Number(v)));
        break;
      case "i64":
        (out as BigInt64Array)[i] = typeof v === "bigint" ? v : BigInt(checkInteger(v, dtype, i));
        break;
      case "i32":
        (out as Int32Array)[i] = checkInteger(Number(v), dtype, i, -2147483648, 2147483647);
        break;
      case "u8":
        (out as Uint8Array)[i] = checkInteger(Number(v), dtype, i, 0, 255);
        break;
      case "bool":
        (out as Uint8Array)[i] = Number(v) !== 0 ? 1 : 0;
        break;
    }
  }
  return new Tensor(dtype, shape, out);
}

function checkInteger(v: number, dtype: DType, index: number, lo = -Infinity, hi = Infinity): number {
  if (!Number.isInteger(v) || v < lo || v > hi) {
    throw new TensorError("VALUE_OUT_OF_RANGE", `fromArray: value ${v} at index ${index} is not a valid ${dtype}`);
  }
  return v;
}

/** The values of a float tensor as f32. f32 returns its own storage (no copy); f16/bf16 a converted copy. */
export function toFloat32Array(t: Tensor): Float32Array {
  switch (t.dtype) {
    case "f32":
      return t.data as Float32Array;
    case "bf16":
      return bf16ArrayToF32(t.data as Uint16Array);
    case "f16":
      return f16ArrayToF32(t.data as Uint16Array);
    default:
      throw new TensorError(
        "DTYPE_MISMATCH",
        `toFloat32Array: expected a float tensor (f32, f16, bf16), got ${t.dtype}; use cast() for integers`,
      );
  }
}

/** f32 tensor of independent N(0, std²) samples, drawn in row-major order from `rng.normal()`. */
export function randn(shape: readonly number[], rng: Rng, std = 1): Tensor<"f32"> {
  const t = zeros(shape, "f32");
  const d = t.data;
  for (let i = 0; i < d.length; i++) d[i] = rng.normal() * std;
  return t;
}

/** f32 tensor of independent uniform samples in [lo, hi), in row-major order from `rng.nextFloat()`. */
export function randUniform(shape: readonly number[], rng: Rng, lo = 0, hi = 1): Tensor<"f32"> {
  const t = zeros(shape, "f32");
  const d = t.data;
  const width = hi - lo;
  for (let i = 0; i < d.length; i++) {
    const v = Math.fround(lo + width * rng.nextFloat());
    // Rounding to f32 can land on hi itself; keep the interval half-open.
    d[i] = v >= hi ? f32Below(hi) : v;
  }
  return t;
}

/** The largest f32 strictly below x (x finite). */
function f32Below(x: number): number {
  const fx = Math.fround(x);
  if (fx < x) return fx;
  if (fx === 0) return -1.401298464324817e-45;
  const bits = f32Bits(fx);
  return f32FromBits(fx > 0 ? bits - 1 : bits + 1);
}
