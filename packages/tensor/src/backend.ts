import type { Tensor } from "./tensor.ts";

/**
 * The one kernel interface every backend implements (DESIGN §3). Shapes are checked by the public
 * functions in `ops.ts` before a backend sees them, so backends may assume valid inputs.
 * Every kernel returns a new f32 tensor unless `out` is given (then it writes there and returns it).
 * Inputs marked "any float" may be f32, f16 or bf16; they are converted to f32 per tile, never whole.
 */
export interface Backend {
  readonly name: "js" | "native";

  /** C = alpha·op(A)·op(B) + beta·C. A: [M,K] ([K,M] if transA), f32. B: [K,N] ([N,K] if transB), any float. */
  gemm(a: Tensor, b: Tensor, opts: GemmOptions): Tensor;
  /** Per-batch gemm. A: [batch,M,K], B: [batch,K,N] (with transposes as gemm), f32. */
  batchedGemm(a: Tensor, b: Tensor, opts: GemmOptions): Tensor;

  /** Elementwise with broadcasting of b over the leading dims of a (b's shape is a suffix of a's). */
  add(a: Tensor, b: Tensor, out?: Tensor): Tensor;
  mul(a: Tensor, b: Tensor, out?: Tensor): Tensor;
  /** a·s elementwise. */
  scale(a: Tensor, s: number, out?: Tensor): Tensor;
  /** alpha·a + beta·b elementwise, same shapes (optimizers, residual adds). */
  axpby(alpha: number, a: Tensor, beta: number, b: Tensor, out?: Tensor): Tensor;

  /** y = x / sqrt(mean(x²) + eps) · weight, per row, in f32. x: [rows, d], weight: [d] any float. */
  rmsNorm(x: Tensor, weight: Tensor, eps: number, out?: Tensor): Tensor;
  /**
   * Rotary embedding, split-halves (`rotate_half`), in place on x: [tokens, heads, headDim].
   * positions: [tokens] i32. Rotates the first `rotaryDim` (default headDim) dims of each head.
   */
  ropeInPlace(x: Tensor, positions: Int32Array, theta: number, rotaryDim?: number): Tensor;
  /**
   * Softmax over the last axis in f32. x: [rows, n]. With `causal`, row r (query index r mod queries
   * of a [.., queries, keys] block) may see keys ≤ (r mod queries) + causal.offset; the rest get 0.
   */
  softmax(x: Tensor, opts?: SoftmaxOptions, out?: Tensor): Tensor;
  silu(x: Tensor, out?: Tensor): Tensor;
  /** silu(gate) · up, elementwise. */
  siluGate(gate: Tensor, up: Tensor, out?: Tensor): Tensor;

  /** k largest per row, values descending (ties: lower index first). x: [rows, n] f32 → values f32 [rows,k], indices i32 [rows,k]. */
  topK(x: Tensor, k: number): { values: Tensor; indices: Tensor };
  /** out[i] = table[indices[i]] as f32. table: [V, d] any float, indices i32 [n] → [n, d]. */
  gatherRows(table: Tensor, indices: Tensor): Tensor;
  /** target[indices[i]] += src[i]. target: [V, d] f32, src: [n, d] f32. In place; returns target. */
  scatterAddRows(target: Tensor, indices: Tensor, src: Tensor): Tensor;

  /** Reductions over one axis (the axis is removed from the shape). */
  sum(x: Tensor, axis: number): Tensor;
  mean(x: Tensor, axis: number): Tensor;
  max(x: Tensor, axis: number): Tensor;
  /** i32 indices of the maximum along the axis (first one on ties). */
  argmax(x: Tensor, axis: number): Tensor;

  /** Cast between dtypes; float→16-bit uses round-to-nearest-even. */
  cast(x: Tensor, dtype: import("./dtype.ts").DType): Tensor;

  /** Threads used by kernels that thread (native); js ignores it. */
  setThreads(n: number): void;
  getThreads(): number;
}

export interface GemmOptions {
  transA?: boolean;
  transB?: boolean;
  /** Default 1. */
  alpha?: number;
  /** Default 0. With beta ≠ 0, `out` must be given and is read. */
  beta?: number;
  /** Output [M, N] f32 to write into. */
  out?: Tensor;
}

export interface SoftmaxOptions {
  /** Causal mask for rows laid out as [..., queries, keys]: key j visible to query i iff j ≤ i + offset. */
  causal?: { queries: number; offset: number };
}
