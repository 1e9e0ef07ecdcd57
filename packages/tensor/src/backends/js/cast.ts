import { allocStorage } from "../../construct.ts";
import { bf16FromF32Bits, bf16Lut, f16FromF32Bits, f16Lut, f32Bits } from "../../convert.ts";
import type { DType } from "../../dtype.ts";
import { TensorError } from "../../errors.ts";
import { Tensor } from "../../tensor.ts";

/**
 * Cast between dtypes. Float → f16/bf16 rounds to nearest even (through f32); float → integer
 * truncates toward zero and rejects NaN/out-of-range values; anything → bool is "≠ 0".
 */
export function cast(x: Tensor, dtype: DType): Tensor {
  const n = x.size;
  const out = allocStorage(dtype, n);
  const read = reader(x);
  for (let i = 0; i < n; i++) {
    const v = read(i);
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
      case "bool":
        (out as Uint8Array)[i] = v !== 0 && v !== 0n ? 1 : 0;
        break;
      case "i64":
        (out as BigInt64Array)[i] =
          typeof v === "bigint" ? v : BigInt(integral(v, x.dtype, dtype, i, -(2 ** 63), 2 ** 63 - 1));
        break;
      case "i32":
        (out as Int32Array)[i] = integral(Number(v), x.dtype, dtype, i, -2147483648, 2147483647);
        break;
      case "u8":
        (out as Uint8Array)[i] = integral(Number(v), x.dtype, dtype, i, 0, 255);
        break;
    }
  }
  return new Tensor(dtype, x.shape, out);
}

function reader(x: Tensor): (i: number) => number | bigint {
  if (x.dtype === "bf16" || x.dtype === "f16") {
    const lut = x.dtype === "bf16" ? bf16Lut() : f16Lut();
    const d = x.data as Uint16Array;
    return (i) => lut[d[i]!]!;
  }
  const d = x.data as ArrayLike<number | bigint>;
  return (i) => d[i]!;
}

function integral(v: number, from: DType, to: DType, index: number, lo: number, hi: number): number {
  const t = Math.trunc(v);
  if (!Number.isFinite(t) || t < lo || t > hi) {
    throw new TensorError(
      "CAST_OUT_OF_RANGE",
      `cast ${from} → ${to}: element ${index} is ${v}, outside [${lo}, ${hi}]`,
    );
  }
  return t;
}
