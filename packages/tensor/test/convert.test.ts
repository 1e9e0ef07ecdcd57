import { describe, expect, it } from "vitest";
import {
  bf16ArrayToF32,
  bf16ToF32,
  f16ArrayToF32,
  f16ToF32,
  f32ArrayToBf16,
  f32ArrayToF16,
  f32ToBf16,
  f32ToF16,
  fromArray,
  toFloat32Array,
} from "../src/index.ts";

/** All finite non-negative patterns of a 16-bit format in increasing value order, with their values. */
function positiveLadder(toF32: (bits: number) => number, infBits: number): { bits: number[]; values: number[] } {
  const bits: number[] = [];
  for (let b = 0; b <= infBits; b++) bits.push(b);
  return { bits, values: bits.map(toF32) };
}

/**
 * Independent reference rounding: nearest value on the ladder computed in float64, ties to the even
 * pattern, beyond the last finite value by ≥ half an ulp → Inf (IEEE overflow rule).
 */
function referenceRound(
  x: number,
  ladder: { bits: number[]; values: number[] },
  maxFinite: number,
  ulpAtMax: number,
): number {
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= maxFinite + ulpAtMax / 2) return sign | ladder.bits[ladder.bits.length - 1]!;
  let lo = 0,
    hi = ladder.values.length - 2; // exclude Inf
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (ladder.values[mid]! <= a) lo = mid;
    else hi = mid - 1;
  }
  if (lo === ladder.values.length - 2) return sign | ladder.bits[lo]!;
  const below = ladder.values[lo]!,
    above = ladder.values[lo + 1]!;
  const dBelow = a - below,
    dAbove = above - a;
  const pick = dBelow < dAbove ? lo : dAbove < dBelow ? lo + 1 : (ladder.bits[lo]! & 1) === 0 ? lo : lo + 1;
  return sign | ladder.bits[pick]!;
}

const formats = [
  {
    name: "bf16",
    toF32: bf16ToF32,
    fromF32: f32ToBf16,
    inf: 0x7f80,
    maxFinite: 3.3895313892515355e38,
    ulpAtMax: 2 ** 120,
  },
  { name: "f16", toF32: f16ToF32, fromF32: f32ToF16, inf: 0x7c00, maxFinite: 65504, ulpAtMax: 32 },
] as const;

describe.each(formats)("$name conversions", ({ toF32, fromF32, inf, maxFinite, ulpAtMax }) => {
  const ladder = positiveLadder(toF32, inf);

  it("round-trips all 65536 patterns (NaN stays NaN)", () => {
    for (let b = 0; b < 65536; b++) {
      const v = toF32(b);
      if (Number.isNaN(v)) expect(Number.isNaN(toF32(fromF32(v)))).toBe(true);
      else expect(fromF32(v)).toBe(b);
    }
  });

  it("rounds every midpoint and quarter point between neighbours like the float64 reference", () => {
    for (let i = 0; i + 1 < ladder.values.length - 1; i++) {
      const lo = ladder.values[i]!,
        hi = ladder.values[i + 1]!;
      for (const t of [0.25, 0.5, 0.75]) {
        const x = Math.fround(lo + (hi - lo) * t);
        for (const s of [1, -1]) expect(fromF32(s * x)).toBe(referenceRound(s * x, ladder, maxFinite, ulpAtMax));
      }
    }
  });

  it("handles Inf, overflow, underflow, subnormals and signed zero", () => {
    expect(fromF32(Infinity)).toBe(inf);
    expect(fromF32(-Infinity)).toBe(inf | 0x8000);
    expect(fromF32(3e38 * 10)).toBe(inf);
    expect(fromF32(maxFinite + ulpAtMax / 2)).toBe(inf);
    expect(fromF32(-0)).toBe(0x8000);
    expect(fromF32(1e-45)).toBe(0); // f32 subnormal far below both formats' range (bf16 keeps f32's exponent: 1e-45 is bf16 subnormal-rounded)
    expect(Number.isNaN(toF32(fromF32(NaN)))).toBe(true);
  });

  it("bulk versions agree with the scalar ones", () => {
    const src = new Float32Array(65536);
    for (let b = 0; b < 65536; b++) src[b] = toF32(b) * 1.37;
    const bulk = inf === 0x7f80 ? f32ArrayToBf16(src) : f32ArrayToF16(src);
    const back = inf === 0x7f80 ? bf16ArrayToF32(bulk) : f16ArrayToF32(bulk);
    for (let b = 0; b < 65536; b++) {
      expect(bulk[b]).toBe(fromF32(src[b]!));
      expect(Object.is(back[b], toF32(bulk[b]!)) || (Number.isNaN(back[b]!) && Number.isNaN(toF32(bulk[b]!)))).toBe(
        true,
      );
    }
  });
});

describe("fromArray / toFloat32Array", () => {
  it("converts with RNE and reads back", () => {
    const t = fromArray([1, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 65520], [4], "bf16");
    expect(Array.from(toFloat32Array(t))).toEqual([1, 1, 1 + 4 * 2 ** -8, 65536]);
    const h = fromArray([65519, 65520, 2 ** -25, 2 ** -25 * 3], [4], "f16");
    expect(Array.from(toFloat32Array(h))).toEqual([65504, Infinity, 0, 2 ** -23]);
    expect(() => fromArray([1, 2, 3], [2, 2])).toThrow(/3 values/);
    const f = fromArray([1, 2], [2]);
    expect(toFloat32Array(f)).toBe(f.data);
  });
});
