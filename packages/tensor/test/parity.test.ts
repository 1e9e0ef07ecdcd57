/**
 * Backend parity: every kernel, on every available backend, against float64 math (test/reference.ts).
 * Tolerances are relative errors ‖a − b‖ / ‖b‖ over the whole output:
 *   GEMM (f32 accumulation over K terms): 1e-6·√K, at least 1e-6 — a random-walk bound on f32 rounding.
 *   Single-pass row kernels (rmsNorm, softmax, rope, silu, elementwise, sums): 1e-6 (a few f32 ulps).
 *   topK indices/values, gather, max/argmax, casts: exact.
 * Backends: "js"; "native" (add-on with its BLAS) and "native/portable-gemm" (same add-on, our own GEMM)
 * when the add-on is built, plus "native/portable-gemm/isa=…" (GEMM cases only) for every ISA path the CPU runs. Cases marked nativeOnly are too slow for the js reference backend.
 */
import { describe, expect, it } from "vitest";
import {
  add,
  argmax,
  axpby,
  bf16ToF32,
  cast,
  f16ToF32,
  f32ToBf16,
  f32ToF16,
  fromArray,
  gatherRows,
  max,
  mean,
  mul,
  Rng,
  rmsNorm,
  ropeInPlace,
  scale,
  scatterAddRows,
  silu,
  siluGate,
  softmax,
  sum,
  type Tensor,
  topK,
  zeros,
} from "../src/index.ts";
import { backends, cases, f32, i32, memo, nextRng, rand } from "./parity-kit.ts";
import { refReduce, refRmsNorm, refRope, refSilu, refSoftmax, refTopK, relErr } from "./reference.ts";
import "./parity-gemm-cases.ts";

// ---- elementwise ----
for (const [shape, bShape] of [
  [[1], [1]],
  [[7], [7]],
  [[3, 17], [17]],
  [
    [5, 1023],
    [5, 1023],
  ],
  [[512, 4096], [4096]],
] as [number[], number[]][]) {
  const inputs = memo(() => ({ a: rand(shape), b: rand(bShape) }));
  const period = bShape.reduce((p, d) => p * d, 1);
  const ref = (f: (x: number, y: number) => number) => () => {
    const { a, b } = inputs();
    return Float64Array.from(f32(a), (x, i) => f(x, f32(b)[i % period]!));
  };
  const addRef = memo(ref((x, y) => x + y));
  const mulRef = memo(ref((x, y) => x * y));
  const label = `[${shape}] ⊕ [${bShape}]`;
  cases.push({ kernel: "add", name: label, check: () => [f32(add(inputs().a, inputs().b)), addRef(), 1e-6] });
  cases.push({ kernel: "mul", name: label, check: () => [f32(mul(inputs().a, inputs().b)), mulRef(), 1e-6] });
  cases.push({
    kernel: "scale",
    name: `[${shape}]`,
    check: () => [f32(scale(inputs().a, -1.7)), Float64Array.from(f32(inputs().a), (x) => x * Math.fround(-1.7)), 1e-6],
  });
  if (period === shape.reduce((p, d) => p * d, 1)) {
    cases.push({
      kernel: "axpby",
      name: `[${shape}]`,
      check: () => [
        f32(axpby(0.3, inputs().a, -2, inputs().b)),
        Float64Array.from(f32(inputs().a), (x, i) => Math.fround(0.3) * x - 2 * f32(inputs().b)[i]!),
        1e-6,
      ],
    });
    cases.push({
      kernel: "siluGate",
      name: `[${shape}]`,
      check: () => [
        f32(siluGate(inputs().a, inputs().b)),
        Float64Array.from(f32(inputs().a), (x, i) => refSilu(x) * f32(inputs().b)[i]!),
        1e-6,
      ],
    });
  }
  cases.push({
    kernel: "silu",
    name: `[${shape}]`,
    check: () => [f32(silu(inputs().a)), Float64Array.from(f32(inputs().a), refSilu), 1e-6],
  });
}

// ---- rows: rmsNorm, rope, softmax ----
for (const [rows, d, wDtype] of [
  [1, 1, "f32"],
  [3, 17, "f32"],
  [7, 1023, "bf16"],
  [5, 64, "f16"],
  [64, 3584, "bf16"],
] as [number, number, "f32" | "bf16" | "f16"][]) {
  const inputs = memo(() => {
    const x = rand([rows, d], 3);
    const w = fromArray(f32(rand([d])), [d], wDtype);
    return { x, w, expected: refRmsNorm(f32(x), f32(w), d, 1e-6) };
  });
  cases.push({
    kernel: "rmsNorm",
    name: `[${rows}, ${d}] w=${wDtype}`,
    check: () => [f32(rmsNorm(inputs().x, inputs().w, 1e-6)), inputs().expected, 1e-6],
  });
}
for (const [tokens, heads, headDim, rotary, theta, maxPos] of [
  [1, 1, 2, 2, 10000, 1],
  [3, 2, 6, 4, 10000, 10],
  [5, 3, 64, 64, 1e6, 100],
  [256, 8, 128, 128, 1e6, 32000],
] as number[][]) {
  const inputs = memo(() => {
    const x = rand([tokens!, heads!, headDim!]);
    const rng = nextRng();
    const pos = Int32Array.from({ length: tokens! }, () => rng.int(maxPos!));
    return { x, pos, expected: refRope(f32(x), pos, tokens!, heads!, headDim!, theta!, rotary!) };
  });
  cases.push({
    kernel: "ropeInPlace",
    name: `[${tokens}, ${heads}, ${headDim}] rotary ${rotary} θ=${theta}`,
    check: () => {
      const x = fromArray(f32(inputs().x), inputs().x.shape);
      ropeInPlace(x, inputs().pos, theta!, rotary);
      return [f32(x), inputs().expected, 1e-6];
    },
  });
}
for (const [shape, causal, spread] of [
  [[1, 1], undefined, 1],
  [[3, 17], undefined, 1],
  [[2, 5, 7], { queries: 5, offset: 2 }, 3],
  [[6, 4], { queries: 3, offset: -1 }, 1],
  [[64, 8192], undefined, 20],
] as [number[], { queries: number; offset: number } | undefined, number][]) {
  const inputs = memo(() => {
    const x = rand(shape, spread);
    return { x, expected: refSoftmax(f32(x), shape[shape.length - 1]!, causal) };
  });
  cases.push({
    kernel: "softmax",
    name: `[${shape}]${causal ? ` causal q=${causal.queries} off=${causal.offset}` : ""}`,
    check: () => [f32(softmax(inputs().x, causal ? { causal } : {})), inputs().expected, 1e-6],
  });
}

// ---- topK (exact) ----
for (const [rows, n, k, kind] of [
  [1, 1, 1, "randn"],
  [3, 17, 5, "ties"],
  [2, 9, 9, "special"],
  [4, 1000, 0, "randn"],
  [4, 1000, 1000, "ties"],
  [4, 32768, 128, "randn"],
  [8, 131072, 64, "randn"],
  // Several 32-wide blocks, a partial last one, ties at the cut-off, NaN/±Inf/±0 spread over the row.
  [3, 4099, 37, "ties"],
  [2, 2050, 40, "special-wide"],
] as [number, number, number, string][]) {
  const inputs = memo(() => {
    const x = rand([rows, n]);
    const d = x.data as Float32Array;
    if (kind === "ties") for (let i = 0; i < d.length; i++) d[i] = Math.round(d[i]! * 2);
    if (kind === "special") d.set([0, -0, NaN, 1, Infinity, -Infinity, 1, NaN, -0, 3, 3, -0, 0, NaN, -1, 3, 2, 2]);
    const special = [NaN, Infinity, -Infinity, 0, -0];
    if (kind === "special-wide") for (let i = 0; i < d.length; i += 97) d[i] = special[(i / 97) % special.length]!;
    const expectedIdx: number[] = [];
    for (let r = 0; r < rows; r++) expectedIdx.push(...refTopK(d.subarray(r * n, (r + 1) * n), k));
    return { x, expectedIdx };
  });
  cases.push({
    kernel: "topK",
    name: `[${rows}, ${n}] k=${k} ${kind}`,
    check: () => {
      const { x, expectedIdx } = inputs();
      const { values, indices } = topK(x, k);
      const got = i32(indices);
      expect(got).toEqual(expectedIdx);
      const expectedValues = expectedIdx.map((j, t) => (x.data as Float32Array)[Math.floor(t / k) * n + j]!);
      expect(Array.from(f32(values)).map((v) => (Object.is(v, -0) ? 0 : v))).toEqual(
        expectedValues.map((v) => (Object.is(v, -0) ? 0 : v)),
      );
      return [[0], [0], 0];
    },
  });
}

// ---- gather / scatter-add ----
for (const [v, d, count, dtype] of [
  [1, 1, 1, "f32"],
  [10, 7, 13, "f32"],
  [50, 33, 80, "bf16"],
  [20, 9, 5, "f16"],
  [1000, 512, 2000, "bf16"],
] as [number, number, number, "f32" | "bf16" | "f16"][]) {
  const inputs = memo(() => {
    const table = fromArray(f32(rand([v, d])), [v, d], dtype);
    const rng = nextRng();
    const idx = fromArray(
      Array.from({ length: count }, () => rng.int(v)),
      [count],
      "i32",
    );
    const tf = f32(table);
    const expected = new Float64Array(count * d);
    for (let i = 0; i < count; i++)
      for (let j = 0; j < d; j++) expected[i * d + j] = tf[(idx.data as Int32Array)[i]! * d + j]!;
    const src = rand([count, d]);
    const target0 = rand([v, d]);
    const scattered = Float64Array.from(f32(target0));
    for (let i = 0; i < count; i++)
      for (let j = 0; j < d; j++) scattered[(idx.data as Int32Array)[i]! * d + j]! += f32(src)[i * d + j]!;
    return { table, idx, expected, src, target0, scattered };
  });
  cases.push({
    kernel: "gatherRows",
    name: `[${v}, ${d}] ${dtype} × ${count}`,
    check: () => [f32(gatherRows(inputs().table, inputs().idx)), inputs().expected, 0],
  });
  cases.push({
    kernel: "scatterAddRows",
    name: `[${v}, ${d}] += ${count} rows`,
    check: () => {
      const target = fromArray(f32(inputs().target0), [v, d]);
      scatterAddRows(target, inputs().idx, inputs().src);
      return [f32(target), inputs().scattered, 1e-6];
    },
  });
}

// ---- reductions ----
for (const [shape, axis] of [
  [[1], 0],
  [[3, 17], 0],
  [[3, 17], -1],
  [[2, 3, 5], 1],
  [[256, 4096], 1],
  [[256, 4096], 0],
] as [number[], number][]) {
  const a = axis < 0 ? axis + shape.length : axis;
  const inputs = memo(() => {
    const x = rand(shape);
    const d = x.data as Float32Array;
    if (shape.length === 2 && shape[0] === 3) {
      d[5] = d[22] = 50;
      d[40] = NaN;
    } // ties and a NaN
    return { x };
  });
  const ref = (f: (v: number[]) => number) => memo(() => refReduce(f32(inputs().x), shape, a, f));
  const sumRef = ref((v) => v.reduce((s, x) => s + x, 0));
  const meanRef = ref((v) => v.reduce((s, x) => s + x, 0) / v.length);
  const maxRef = ref((v) => (v.some(Number.isNaN) ? NaN : Math.max(...v)));
  const argmaxRef = ref((v) => {
    const nan = v.findIndex(Number.isNaN);
    return nan >= 0 ? nan : v.indexOf(Math.max(...v));
  });
  const label = `[${shape}] axis ${axis}`;
  cases.push({ kernel: "sum", name: label, check: () => [f32(sum(inputs().x, axis)), sumRef(), 1e-6] });
  cases.push({ kernel: "mean", name: label, check: () => [f32(mean(inputs().x, axis)), meanRef(), 1e-6] });
  cases.push({ kernel: "max", name: label, check: () => [f32(max(inputs().x, axis)), maxRef(), 0] });
  cases.push({ kernel: "argmax", name: label, check: () => [i32(argmax(inputs().x, axis)), argmaxRef(), 0] });
}

// ---- casts, exhaustive over the 16-bit patterns ----
{
  const patterns = memo(() => Uint16Array.from({ length: 65536 }, (_, i) => i));
  const bf16Values = memo(() => Float64Array.from(patterns(), bf16ToF32));
  const f16Values = memo(() => Float64Array.from(patterns(), f16ToF32));
  // f32 inputs: every bf16 and f16 value, the midpoints between f16 neighbours, and random f32s.
  const f32Inputs = memo(() => {
    const v: number[] = [...bf16Values(), ...f16Values()];
    for (let i = 0; i < 0x7bff; i++) v.push((f16ToF32(i) + f16ToF32(i + 1)) / 2, -(f16ToF32(i) + f16ToF32(i + 1)) / 2);
    const rng = new Rng(99);
    for (let i = 0; i < 50000; i++) v.push(rng.normal() * 2 ** (rng.int(80) - 40));
    return Float32Array.from(v);
  });
  const sameBits = (a: ArrayLike<number>, b: ArrayLike<number>): [number[], number[], number] => {
    const bad: number[] = [];
    for (let i = 0; i < a.length && bad.length < 5; i++)
      if (!(Object.is(a[i], b[i]) || (Number.isNaN(a[i]!) && Number.isNaN(b[i]!)))) bad.push(i);
    return [bad, [], 0];
  };
  cases.push({
    kernel: "cast",
    name: "all bf16 → f32",
    check: () => sameBits(f32(cast(bf16Tensor(patterns()), "f32")), bf16Values()),
  });
  cases.push({
    kernel: "cast",
    name: "all f16 → f32",
    check: () => sameBits(f32(cast(f16Tensor(patterns()), "f32")), f16Values()),
  });
  cases.push({
    kernel: "cast",
    name: "f32 → bf16 (RNE)",
    check: () =>
      sameBits(
        Array.from(cast(f32Tensor(f32Inputs()), "bf16").data as Uint16Array),
        Array.from(f32Inputs(), f32ToBf16),
      ),
  });
  cases.push({
    kernel: "cast",
    name: "f32 → f16 (RNE)",
    check: () =>
      sameBits(Array.from(cast(f32Tensor(f32Inputs()), "f16").data as Uint16Array), Array.from(f32Inputs(), f32ToF16)),
  });
  cases.push({
    kernel: "cast",
    name: "all bf16 → f16",
    check: () =>
      sameBits(Array.from(cast(bf16Tensor(patterns()), "f16").data as Uint16Array), Array.from(bf16Values(), f32ToF16)),
  });
}
function bf16Tensor(bits: Uint16Array): Tensor {
  const t = zeros([bits.length], "bf16");
  t.data.set(bits);
  return t;
}
function f16Tensor(bits: Uint16Array): Tensor {
  const t = zeros([bits.length], "f16");
  t.data.set(bits);
  return t;
}
function f32Tensor(v: Float32Array): Tensor {
  return fromArray(v, [v.length]);
}

describe.each(backends)("parity on $name", (backend) => {
  for (const c of cases) {
    if (c.nativeOnly && backend.name === "js") continue;
    if (backend.gemmOnly && !c.kernel.toLowerCase().includes("gemm")) continue;
    it(`${c.kernel} ${c.name}`, () => {
      backend.select();
      const [actual, expected, tol] = c.check();
      if (c.kernel === "cast") {
        expect(actual, `first mismatching indices`).toEqual([]);
        return;
      }
      const err = relErr(actual, expected);
      expect(err, `relative error ${err.toExponential(2)} > ${tol}`).toBeLessThanOrEqual(tol);
    });
  }
});
