/**
 * Exact conversions between f32 and the two 16-bit float formats, by bit manipulation.
 *
 * f32 → bf16 / f16 round to nearest, ties to even (IEEE 754 default), the way PyTorch and numpy do:
 * overflow goes to ±Inf, tiny values become subnormals or ±0, NaN stays NaN (quiet, sign kept,
 * top payload bits kept). 16-bit → f32 is exact (every bf16/f16 value is an f32 value).
 */

// One shared scratch word reinterpreted as f32 and u32 (same bytes) — no allocation per call.
const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** The raw IEEE 754 bits of `x` rounded to f32. */
export function f32Bits(x: number): number {
  scratchF32[0] = x;
  return scratchU32[0]!;
}

/** The f32 whose raw bits are `bits` (an unsigned 32-bit integer). */
export function f32FromBits(bits: number): number {
  scratchU32[0] = bits >>> 0;
  return scratchF32[0]!;
}

/** Round x (as f32) to bf16, returning the 16-bit pattern. */
export function f32ToBf16(x: number): number {
  return bf16FromF32Bits(f32Bits(x));
}

/** bf16 from raw f32 bits: keep the top 16 bits, rounding the dropped 16 to nearest even. */
export function bf16FromF32Bits(bits: number): number {
  if ((bits & 0x7fffffff) > 0x7f800000) return ((bits >>> 16) | 0x0040) & 0xffff; // NaN: force quiet bit
  const lsb = (bits >>> 16) & 1;
  // For every non-NaN input the sum stays below 2^32, so the carry into the exponent is exact (→ Inf on overflow).
  return ((bits + 0x7fff + lsb) >>> 16) & 0xffff;
}

/** The f32 value of a bf16 pattern (exact). */
export function bf16ToF32(bits: number): number {
  return f32FromBits((bits & 0xffff) << 16);
}

/** Round x (as f32) to IEEE half precision, returning the 16-bit pattern. */
export function f32ToF16(x: number): number {
  return f16FromF32Bits(f32Bits(x));
}

/** f16 from raw f32 bits, round to nearest even, including the subnormal range. */
export function f16FromF32Bits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) {
    // Inf stays Inf; NaN keeps its top payload bits and is made quiet.
    return mant === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mant >>> 13);
  }
  const halfExp = exp - 127 + 15;
  if (halfExp >= 31) return sign | 0x7c00; // beyond 2^16: Inf
  if (halfExp >= 1) {
    // Normal: 10 kept mantissa bits, 13 dropped. A carry out of the mantissa bumps the exponent,
    // which is the correct result (and reaches 0x7c00 = Inf exactly when it should).
    let half = (halfExp << 10) | (mant >>> 13);
    const rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half += 1;
    return sign | half;
  }
  // Subnormal or zero: value = (mant | implicit 1) · 2^(exp−150); in units of 2^−24 that is shifted right by 126−exp.
  const shift = 126 - exp;
  if (shift > 24) return sign; // below half of the smallest subnormal: ±0
  const full = mant | 0x800000;
  let half = full >>> shift;
  const rest = full & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  if (rest > halfway || (rest === halfway && (half & 1) === 1)) half += 1;
  return sign | half;
}

/** The f32 value of an f16 pattern (exact). */
export function f16ToF32(bits: number): number {
  const sign = (bits & 0x8000) << 16;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) {
    const magnitude = mant * 2 ** -24; // exact
    return sign !== 0 ? -magnitude : magnitude;
  }
  if (exp === 0x1f) return f32FromBits((sign | 0x7f800000 | (mant << 13)) >>> 0);
  return f32FromBits((sign | ((exp + 112) << 23) | (mant << 13)) >>> 0);
}

// Lookup tables for bulk 16-bit → f32 (256 KB each), built on first use only.
let bf16Table: Float32Array | undefined;
let f16Table: Float32Array | undefined;

/** All 65536 bf16 patterns as f32, indexed by pattern. */
export function bf16Lut(): Float32Array {
  if (!bf16Table) {
    const t = new Float32Array(65536);
    const u = new Uint32Array(t.buffer);
    for (let i = 0; i < 65536; i++) u[i] = i << 16;
    bf16Table = t;
  }
  return bf16Table;
}

/** All 65536 f16 patterns as f32, indexed by pattern. */
export function f16Lut(): Float32Array {
  if (!f16Table) {
    const t = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) t[i] = f16ToF32(i);
    f16Table = t;
  }
  return f16Table;
}

export function f32ArrayToBf16(src: Float32Array): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = bf16FromF32Bits(bits[i]!);
  return out;
}

export function bf16ArrayToF32(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  const u = new Uint32Array(out.buffer);
  for (let i = 0; i < src.length; i++) u[i] = src[i]! << 16;
  return out;
}

export function f32ArrayToF16(src: Float32Array): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = f16FromF32Bits(bits[i]!);
  return out;
}

export function f16ArrayToF32(src: Uint16Array): Float32Array {
  const lut = f16Lut();
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = lut[src[i]!]!;
  return out;
}

/**
 * Rows [start, start+count) of a float tensor's storage as f32: the same memory for f32, a converted
 * copy for f16/bf16. This is the "per tile" conversion every kernel with an any-float input uses.
 */
export function floatSliceToF32(
  dtype: "f32" | "f16" | "bf16",
  data: Float32Array | Uint16Array,
  start: number,
  count: number,
  scratch?: Float32Array,
): Float32Array {
  if (dtype === "f32") return (data as Float32Array).subarray(start, start + count);
  const out = scratch && scratch.length >= count ? scratch.subarray(0, count) : new Float32Array(count);
  const lut = dtype === "bf16" ? bf16Lut() : f16Lut();
  const src = data as Uint16Array;
  for (let i = 0; i < count; i++) out[i] = lut[src[start + i]!]!;
  return out;
}
