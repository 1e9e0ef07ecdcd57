import type { Backend } from "../../backend.ts";
import type { DType } from "../../dtype.ts";
import { TensorError } from "../../errors.ts";
import type { Tensor } from "../../tensor.ts";
import type { GpuContext } from "./context.ts";
import { floatHelpers, floatInput, grid1d, main1d, packUniforms } from "./kernel-util.ts";
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

/** WGSL declaring binding 0 as `x` of `dtype` and `fn x_at(i) -> f32`. */
function sourceInput(dtype: DType): string {
  if (dtype === "f32" || dtype === "f16" || dtype === "bf16")
    return `${floatInput(0, "x", dtype)}\n${floatHelpers(dtype)}`;
  const element = dtype === "i32" ? "i32" : "u32";
  return `@group(0) @binding(0) var<storage, read> x: array<${element}>;
fn x_at(i: u32) -> f32 { return f32(x[i]); }`;
}

function castShader(from: DType, to: DType): string {
  const packed = to === "f16" || to === "bf16";
  const element = to === "f32" ? "f32" : to === "i32" ? "i32" : "u32";
  const convert: Record<string, string> = {
    f32: "v",
    i32: "i32(v)",
    u8: "u32(clamp(trunc(v), 0.0, 255.0))",
    bool: "select(0u, 1u, v != 0.0)",
  };
  const body = packed
    ? `let lo = f32_to_${to}(x_at(2u * i));
  var hi = 0u;
  if (2u * i + 1u < u.n) { hi = f32_to_${to}(x_at(2u * i + 1u)); }
  out[i] = lo | (hi << 16u);`
    : `let v = x_at(i);
  out[i] = ${convert[to]};`;
  return `${sourceInput(from)}
@group(0) @binding(1) var<storage, read_write> out: array<${element}>;
struct U { n: u32, words: u32 }
@group(0) @binding(2) var<uniform> u: U;
${to === "bf16" ? F32_TO_BF16 : to === "f16" ? F32_TO_F16 : ""}
${main1d("u.words")}
  ${body}
}`;
}

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
  const pipeline = ctx.pipeline(`cast.${x.dtype}.${dtype}`, () => castShader(x.dtype, dtype));
  const uniforms = packUniforms([
    ["u32", x.size],
    ["u32", words],
  ]);
  ctx.dispatch(pipeline, [x, out], uniforms, grid1d(ctx, words));
  return out;
}

export function castKernels(ctx: GpuContext): Pick<Backend, "cast"> {
  return { cast: (x, dtype) => castOnDevice(ctx, x, dtype) };
}
