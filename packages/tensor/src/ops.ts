import type { GemmOptions, RmsNormOptions, RopeOptions, SoftmaxOptions } from "./backend.ts";
import { expectOnDevice, onHost } from "./device-check.ts";
import type { DType } from "./dtype.ts";
import { TensorError } from "./errors.ts";
import { checkOut, expectDType, expectRank, expectWindow, F32, FLOATS, fmt, sameShape } from "./ops-checks.ts";
import { currentBackend } from "./registry.ts";
import { ShapeError, Tensor } from "./tensor.ts";

/*
 * The public kernels: each checks shapes and dtypes (errors show both shapes) and then calls the
 * current backend, which may assume valid input.
 */

/** The B operand check, with a hint when the transposed layout would have fit. */
function checkGemmOperands(
  op: string,
  aShape: readonly number[],
  bShape: readonly number[],
  opts: GemmOptions,
): { m: number; n: number; k: number } {
  const [a0, a1] = aShape as [number, number];
  const [b0, b1] = bShape as [number, number];
  const m = opts.transA ? a1 : a0;
  const k = opts.transA ? a0 : a1;
  const bK = opts.transB ? b1 : b0;
  if (bK !== k) {
    const n = opts.transB ? (b0 === k ? b1 : b0) : b1 === k ? b0 : b1;
    const expected = opts.transB ? [n, k] : [k, n];
    const flips = opts.transB ? b0 === k : b1 === k;
    const hint = flips ? ` — did you mean transB: ${!opts.transB}?` : "";
    throw new ShapeError(
      `${op}(b): expected ${fmt(expected)}, got ${fmt(bShape)}${hint} (a is ${fmt(aShape)}${opts.transA ? " with transA" : ""}, so K = ${k})`,
    );
  }
  return { m, n: opts.transB ? b0 : b1, k };
}

function checkBeta(op: string, opts: GemmOptions): void {
  if ((opts.beta ?? 0) !== 0 && !opts.out) {
    throw new TensorError("MISSING_OUT", `${op}: beta = ${opts.beta} reads C, so opts.out must be given`);
  }
}

/** C = alpha·op(A)·op(B) + beta·C. A: [M, K] f32 ([K, M] with transA); B: [K, N] any float ([N, K] with transB) → [M, N] f32. */
export function gemm(a: Tensor, b: Tensor, opts: GemmOptions = {}): Tensor {
  expectOnDevice("gemm", { a, b, out: opts.out });
  expectRank("gemm", "a", a, 2, "[M, K]");
  expectRank("gemm", "b", b, 2, "[K, N]");
  expectDType("gemm", "a", a, F32);
  expectDType("gemm", "b", b, FLOATS);
  const { m, n } = checkGemmOperands("gemm", a.shape, b.shape, opts);
  checkOut("gemm", opts.out, [m, n]);
  checkBeta("gemm", opts);
  return currentBackend().gemm(a, b, opts);
}

/** Per-batch gemm. A: [batch, M, K], B: [batch, K, N] (transposes as gemm) → [batch, M, N] f32. */
export function batchedGemm(a: Tensor, b: Tensor, opts: GemmOptions = {}): Tensor {
  expectOnDevice("batchedGemm", { a, b, out: opts.out });
  expectRank("batchedGemm", "a", a, 3, "[batch, M, K]");
  expectRank("batchedGemm", "b", b, 3, "[batch, K, N]");
  expectDType("batchedGemm", "a", a, F32);
  expectDType("batchedGemm", "b", b, FLOATS);
  if (a.shape[0] !== b.shape[0])
    throw new ShapeError(`batchedGemm(b): expected batch ${a.shape[0]}, got ${fmt(b.shape)} (a is ${fmt(a.shape)})`);
  const bShape = b.shape.slice(1);
  if (opts.bRows !== undefined) {
    if (!Number.isInteger(opts.bRows) || opts.bRows < 0 || opts.bRows > bShape[0]!)
      throw new ShapeError(
        `batchedGemm: bRows ${opts.bRows} must be an integer in [0, ${bShape[0]}] (b is ${fmt(b.shape)})`,
      );
    bShape[0] = opts.bRows;
  }
  const { m, n } = checkGemmOperands("batchedGemm", a.shape.slice(1), bShape, opts);
  checkOut("batchedGemm", opts.out, [a.shape[0]!, m, n]);
  checkBeta("batchedGemm", opts);
  return currentBackend().batchedGemm(a, b, opts);
}

function checkBroadcast(op: string, a: Tensor, b: Tensor, out?: Tensor): void {
  expectDType(op, "a", a, F32);
  expectDType(op, "b", b, F32);
  const suffix = a.shape.slice(a.rank - b.rank);
  if (b.rank > a.rank || !sameShape(suffix, b.shape)) {
    throw new ShapeError(
      `${op}(b): expected a suffix of a's shape ${fmt(a.shape)} (e.g. ${fmt(a.shape.slice(-1))}), got ${fmt(b.shape)}`,
    );
  }
  checkOut(op, out, a.shape);
}

/** a + b, b broadcast over a's leading dims (b's shape is a suffix of a's). */
export function add(a: Tensor, b: Tensor, out?: Tensor): Tensor {
  expectOnDevice("add", { a, b, out });
  checkBroadcast("add", a, b, out);
  return currentBackend().add(a, b, out);
}

/** a · b elementwise, b broadcast over a's leading dims. */
export function mul(a: Tensor, b: Tensor, out?: Tensor): Tensor {
  expectOnDevice("mul", { a, b, out });
  checkBroadcast("mul", a, b, out);
  return currentBackend().mul(a, b, out);
}

/** a · s. */
export function scale(a: Tensor, s: number, out?: Tensor): Tensor {
  expectOnDevice("scale", { a, out });
  expectDType("scale", "a", a, F32);
  checkOut("scale", out, a.shape);
  return currentBackend().scale(a, s, out);
}

/** alpha·a + beta·b, same shapes. */
export function axpby(alpha: number, a: Tensor, beta: number, b: Tensor, out?: Tensor): Tensor {
  expectOnDevice("axpby", { a, b, out });
  expectDType("axpby", "a", a, F32);
  expectDType("axpby", "b", b, F32);
  if (!sameShape(a.shape, b.shape))
    throw new ShapeError(`axpby(b): expected ${fmt(a.shape)} like a, got ${fmt(b.shape)}`);
  checkOut("axpby", out, a.shape);
  return currentBackend().axpby(alpha, a, beta, b, out);
}

/**
 * RMSNorm per row: y = x / √(mean(x²) + eps) · (weightOffset + weight). x: [..., d] f32, weight: [d] any float → like
 * x. The fourth argument is `{ weightOffset, out }` (Gemma: weightOffset 1) or, as before, the `out` tensor itself.
 */
export function rmsNorm(x: Tensor, weight: Tensor, eps: number, optsOrOut?: RmsNormOptions | Tensor): Tensor {
  const opts: RmsNormOptions = optsOrOut instanceof Tensor ? { out: optsOrOut } : (optsOrOut ?? {});
  const { out, weightOffset = 0 } = opts;
  expectOnDevice("rmsNorm", { x, weight, out });
  expectDType("rmsNorm", "x", x, F32);
  expectDType("rmsNorm", "weight", weight, FLOATS);
  const d = x.shape[x.rank - 1];
  if (weight.rank !== 1 || weight.shape[0] !== d)
    throw new ShapeError(`rmsNorm(weight): expected [${d}] (x is ${fmt(x.shape)}), got ${fmt(weight.shape)}`);
  if (!Number.isFinite(weightOffset))
    throw new TensorError("BAD_ARGUMENT", `rmsNorm: weightOffset must be a finite number, got ${weightOffset}`);
  checkOut("rmsNorm", out, x.shape);
  return currentBackend().rmsNorm(x, weight, eps, out, weightOffset);
}

/**
 * Rotary embedding (split halves) in place. x: [tokens, heads, headDim] f32, positions: i32 [tokens]. The fourth
 * argument is `{ rotaryDim, invFreq }` (invFreq: [rotaryDim / 2] f32, e.g. from RoPE scaling; θ is then unused) or,
 * as before, rotaryDim itself.
 */
export function ropeInPlace(
  x: Tensor,
  positions: Int32Array,
  theta: number,
  optsOrRotaryDim?: RopeOptions | number,
): Tensor {
  const opts: RopeOptions =
    typeof optsOrRotaryDim === "number" ? { rotaryDim: optsOrRotaryDim } : (optsOrRotaryDim ?? {});
  expectOnDevice("ropeInPlace", { x });
  expectDType("ropeInPlace", "x", x, F32);
  expectRank("ropeInPlace", "x", x, 3, "[tokens, heads, headDim]");
  const [tokens, , headDim] = x.shape as [number, number, number];
  if (positions.length !== tokens)
    throw new ShapeError(
      `ropeInPlace(positions): expected [${tokens}] (x is ${fmt(x.shape)}), got [${positions.length}]`,
    );
  const dim = opts.rotaryDim ?? headDim;
  if (!Number.isInteger(dim) || dim % 2 !== 0 || dim < 0 || dim > headDim) {
    throw new TensorError("BAD_ARGUMENT", `ropeInPlace: rotaryDim must be even and ≤ headDim ${headDim}, got ${dim}`);
  }
  const { invFreq } = opts;
  if (invFreq !== undefined) {
    if (!(invFreq instanceof Float32Array) || invFreq.length !== dim / 2)
      throw new ShapeError(
        `ropeInPlace(invFreq): expected a Float32Array of ${dim / 2} entries (rotaryDim ${dim} / 2; x is ${fmt(x.shape)}), got ${invFreq instanceof Float32Array ? `${invFreq.length} entries` : "another type"}`,
      );
  } else if (!(theta > 0)) {
    throw new TensorError("BAD_ARGUMENT", `ropeInPlace: theta must be > 0 (or give invFreq), got ${theta}`);
  }
  return currentBackend().ropeInPlace(x, positions, theta, dim, invFreq);
}

/** Softmax over the last axis in f32, optionally causal over [..., queries, keys] rows. */
export function softmax(x: Tensor, opts: SoftmaxOptions = {}, out?: Tensor): Tensor {
  expectOnDevice("softmax", { x, out });
  expectDType("softmax", "x", x, F32);
  if (x.rank < 1) throw new ShapeError(`softmax(x): expected rank ≥ 1, got ${fmt(x.shape)}`);
  if (opts.causal) {
    const { queries, offset, window } = opts.causal;
    const rows = x.size / Math.max(1, x.shape[x.rank - 1]!);
    if (!Number.isInteger(queries) || queries < 1 || rows % queries !== 0 || !Number.isInteger(offset)) {
      throw new TensorError(
        "BAD_ARGUMENT",
        `softmax: causal.queries must be a positive divisor of the ${rows} rows and offset an integer, got queries ${queries}, offset ${offset}`,
      );
    }
    expectWindow("softmax", "causal.window", window);
  }
  checkOut("softmax", out, x.shape);
  return currentBackend().softmax(x, opts, out);
}

/** k largest per row, values descending (NaN first, ties: lower index first). x: [..., n] f32 → [..., k] f32 + i32. */
export function topK(x: Tensor, k: number): { values: Tensor; indices: Tensor } {
  expectOnDevice("topK", { x });
  expectDType("topK", "x", x, F32);
  if (x.rank < 1) throw new ShapeError(`topK(x): expected [rows, n], got ${fmt(x.shape)}`);
  const n = x.shape[x.rank - 1]!;
  if (!Number.isInteger(k) || k < 0 || k > n)
    throw new TensorError(
      "BAD_ARGUMENT",
      `topK: k must be an integer in [0, ${n}] (row length of ${fmt(x.shape)}), got ${k}`,
    );
  return currentBackend().topK(x, k);
}

function checkIndices(op: string, indices: Tensor, limit: number): void {
  expectDType(op, "indices", indices, ["i32"]);
  expectRank(op, "indices", indices, 1, "[n]");
  // Values are read only on the host; device kernels skip (scatter) or zero (gather) out-of-range rows instead.
  if (!onHost(indices)) return;
  const idx = indices.data as Int32Array;
  for (let i = 0; i < idx.length; i++) {
    const v = idx[i]!;
    if (v < 0 || v >= limit)
      throw new TensorError("INDEX_OUT_OF_RANGE", `${op}: indices[${i}] = ${v} is outside [0, ${limit})`);
  }
}

/**
 * out[i] = table[indices[i]] as f32. table: [V, d] any float, indices: i32 [n] → [n, d]. Host indices are
 * range-checked (INDEX_OUT_OF_RANGE); device indices are not read back: an out-of-range row gathers zeros.
 */
export function gatherRows(table: Tensor, indices: Tensor): Tensor {
  expectOnDevice("gatherRows", { table, indices });
  expectDType("gatherRows", "table", table, FLOATS);
  expectRank("gatherRows", "table", table, 2, "[V, d]");
  checkIndices("gatherRows", indices, table.shape[0]!);
  return currentBackend().gatherRows(table, indices);
}

/**
 * target[indices[i]] += src[i], in place. target: [V, d] f32, indices: i32 [n], src: [n, d] f32. Host indices are
 * range-checked (INDEX_OUT_OF_RANGE); device indices are not read back: an out-of-range row is skipped.
 */
export function scatterAddRows(target: Tensor, indices: Tensor, src: Tensor): Tensor {
  expectOnDevice("scatterAddRows", { target, indices, src });
  expectDType("scatterAddRows", "target", target, F32);
  expectDType("scatterAddRows", "src", src, F32);
  expectRank("scatterAddRows", "target", target, 2, "[V, d]");
  checkIndices("scatterAddRows", indices, target.shape[0]!);
  const expected = [indices.size, target.shape[1]!];
  if (!sameShape(src.shape, expected))
    throw new ShapeError(`scatterAddRows(src): expected ${fmt(expected)}, got ${fmt(src.shape)}`);
  return currentBackend().scatterAddRows(target, indices, src);
}

function normalizeAxis(op: string, x: Tensor, axis: number): number {
  const a = axis < 0 ? axis + x.rank : axis;
  if (!Number.isInteger(axis) || a < 0 || a >= x.rank)
    throw new ShapeError(`${op}: axis ${axis} is out of range for ${fmt(x.shape)}`);
  expectDType(op, "x", x, F32);
  return a;
}

/** Sum over an axis (negative counts from the end); the axis is removed. */
export function sum(x: Tensor, axis: number): Tensor {
  expectOnDevice("sum", { x });
  return currentBackend().sum(x, normalizeAxis("sum", x, axis));
}
export function mean(x: Tensor, axis: number): Tensor {
  expectOnDevice("mean", { x });
  return currentBackend().mean(x, normalizeAxis("mean", x, axis));
}
export function max(x: Tensor, axis: number): Tensor {
  expectOnDevice("max", { x });
  return currentBackend().max(x, normalizeAxis("max", x, axis));
}
/** i32 index of the maximum along the axis (first on ties). */
export function argmax(x: Tensor, axis: number): Tensor {
  expectOnDevice("argmax", { x });
  const a = normalizeAxis("argmax", x, axis);
  if (x.shape[a] === 0) throw new ShapeError(`argmax: axis ${axis} of ${fmt(x.shape)} is empty`);
  return currentBackend().argmax(x, a);
}

/** Cast to another dtype (float → 16-bit rounds to nearest even). */
export function cast(x: Tensor, dtype: DType): Tensor {
  expectOnDevice("cast", { x });
  return currentBackend().cast(x, dtype);
}
