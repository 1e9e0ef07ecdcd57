import type { Backend } from "../../backend.ts";
import type { DType } from "../../dtype.ts";
import { TensorError } from "../../errors.ts";
import type { Tensor } from "../../tensor.ts";
import type { GpuContext } from "./context.ts";
import { F16_TO_F32, grid1d, main1d, packUniforms } from "./kernel-util.ts";
import { deviceBytes } from "./packing.ts";

/*
 * Casts between f32, f16, bf16, i32, u8 and bool on the device, through an f32 value. Float → f16 / bf16 rounds to
 * nearest even in integer arithmetic, bit for bit as the host conversion (convert.ts), NaN and subnormals included;
 * the built-in pack2x16float promises neither. Unlike the host cast, which rejects NaN and out-of-range values for
 * integer targets, the device cannot throw: float → i32 / u8 truncates toward zero and saturates (NaN → 0).
 * 16-bit outputs are written a u32 word (two elements) per invocation, so no two invocations share a word.
 */

const CASTABLE: readonly DType[] = ["f32", "f16", "bf16", "i32", "u8", "bool"];

export const F32_TO_BF16 = `fn f32_to_bf16(v: f32) -> u32 {
  let b = bitcast<u32>(v);
  if ((b & 0x7fffffffu) > 0x7f800000u) { return ((b >> 16u) | 0x40u) & 0xffffu; }
  return ((b + 0x7fffu + ((b >> 16u) & 1u)) >> 16u) & 0xffffu;
}`;

export const F32_TO_F16 = `fn f32_to_f16(v: f32) -> u32 {
  let bits = bitcast<u32>(v);
  let sign = (bits >> 16u) & 0x8000u;
  let e = (bits >> 23u) & 0xffu;
  let mant = bits & 0x7fffffu;
  if (e == 0xffu) { return select(sign | 0x7e00u | (mant >> 13u), sign | 0x7c00u, mant == 0u); }
  let he = i32(e) - 112;
  if (he >= 31) { return sign | 0x7c00u; }
  if (he >= 1) {
    var half = (u32(he) << 10u) | (mant >> 13u);
    let rest = mant & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (half & 1u) == 1u)) { half += 1u; }
    return sign | half;
  }
  let shift = 126u - e;
  if (shift > 24u) { return sign; }
  let full = mant | 0x800000u;
  var half = full >> shift;
  let rest = full & ((1u << shift) - 1u);
  let halfway = 1u << (shift - 1u);
  if (rest > halfway || (rest == halfway && (half & 1u) == 1u)) { half += 1u; }
  return sign | half;
}`;

/** Codes of the source and destination dtypes (uniforms: one pipeline casts every pair). */
const CODE: Readonly<Record<string, number>> = { f32: 0, bf16: 1, f16: 2, i32: 3, u8: 4, bool: 5 };

const CAST = `@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
struct U { n: u32, words: u32, src: u32, dst: u32 }
@group(0) @binding(2) var<uniform> u: U;
${F16_TO_F32}
${F32_TO_BF16}
${F32_TO_F16}
fn load(i: u32) -> f32 {
  switch (u.src) {
    case 0u: { return bitcast<f32>(x[i]); }
    case 3u: { return f32(bitcast<i32>(x[i])); }
    case 4u, 5u: { return f32(x[i]); }
    default: {
      let w = x[i >> 1u];
      let h = select(w, w >> 16u, (i & 1u) == 1u);
      if (u.src == 1u) { return bitcast<f32>((h & 0xffffu) << 16u); }
      return f16_to_f32(h);
    }
  }
}
fn narrow(v: f32) -> u32 { return select(f32_to_f16(v), f32_to_bf16(v), u.dst == 1u); }
fn convert(v: f32) -> u32 {
  switch (u.dst) {
    case 0u: { return bitcast<u32>(v); }
    case 3u: { return bitcast<u32>(i32(v)); }
    case 4u: { return u32(clamp(trunc(v), 0.0, 255.0)); }
    default: { return select(0u, 1u, v != 0.0); }
  }
}
${main1d("u.words")}
  if (u.dst == 1u || u.dst == 2u) {
    var hi = 0u;
    if (2u * i + 1u < u.n) { hi = narrow(load(2u * i + 1u)); }
    out[i] = narrow(load(2u * i)) | (hi << 16u);
  } else {
    out[i] = convert(load(i));
  }
}`;

export function castOnDevice(ctx: GpuContext, x: Tensor, dtype: DType): Tensor {
  for (const d of [x.dtype, dtype])
    if (!CASTABLE.includes(d))
      throw new TensorError(
        "DTYPE_MISMATCH",
        `cast ${x.dtype} → ${dtype}: the webgpu backend casts between ${CASTABLE.join(", ")} (i64 has no device layout)`,
      );
  const out = ctx.alloc(dtype, x.shape);
  if (x.size === 0) return out;
  if (dtype === x.dtype) {
    ctx.copyBytes(x, 0, out, 0, deviceBytes(dtype, x.size));
    return out;
  }
  const words = dtype === "f16" || dtype === "bf16" ? Math.ceil(x.size / 2) : x.size;
  const pipeline = ctx.pipeline("cast", () => CAST);
  const uniforms = packUniforms([
    ["u32", x.size],
    ["u32", words],
    ["u32", CODE[x.dtype]!],
    ["u32", CODE[dtype]!],
  ]);
  ctx.dispatch(pipeline, [x, out], uniforms, grid1d(ctx, words));
  return out;
}

export function castKernels(ctx: GpuContext): Pick<Backend, "cast"> {
  return { cast: (x, dtype) => castOnDevice(ctx, x, dtype) };
}
