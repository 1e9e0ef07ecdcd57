import type { DType } from "./dtype.ts";
import type { Device, Tensor } from "./tensor.ts";

/**
 * The one kernel interface every backend implements (DESIGN §3). Shapes are checked by the public
 * functions in `ops.ts` before a backend sees them, so backends may assume valid inputs.
 * Every kernel returns a new f32 tensor unless `out` is given (then it writes there and returns it).
 * Inputs marked "any float" may be f32, f16 or bf16; they are converted to f32 per tile, never whole.
 */
export interface Backend {
  readonly name: BackendName;
  /** Where this backend's tensors live. Kernels take tensors of this device only (ops.ts checks, naming the tensor). */
  readonly device: Device;

  // ---- storage (DESIGN §3: copies between devices are explicit) ----

  /** A copy of host tensor `t` on this device (CPU backends return `t` itself). Any dtype. */
  upload(t: Tensor): Tensor;
  /** A host copy of this device's tensor `t` (CPU backends resolve to `t` itself). */
  download(t: Tensor): Promise<Tensor>;
  /** Zeros of `shape` on this device. */
  zeros(shape: readonly number[], dtype: DType): Tensor;
  /** Frees a device tensor's storage now (a hint; CPU backends ignore it). Views share storage: free the owner last. */
  release(t: Tensor): void;
  /** Waits until every enqueued kernel has finished (CPU backends resolve at once). */
  sync(): Promise<void>;

  /** C = alpha·op(A)·op(B) + beta·C. A: [M,K] ([K,M] if transA), f32. B: [K,N] ([N,K] if transB), any float. */
  gemm(a: Tensor, b: Tensor, opts: GemmOptions): Tensor;
  /**
   * Per-batch gemm. A: [batch,M,K], B: [batch,K,N] (with transposes as gemm), f32 A, any float B. With
   * `opts.bRows`, only the first bRows rows of each B matrix are used (a KV cache preallocated to its capacity).
   */
  batchedGemm(a: Tensor, b: Tensor, opts: GemmOptions): Tensor;

  /** Elementwise with broadcasting of b over the leading dims of a (b's shape is a suffix of a's). */
  add(a: Tensor, b: Tensor, out?: Tensor): Tensor;
  mul(a: Tensor, b: Tensor, out?: Tensor): Tensor;
  /** a·s elementwise. */
  scale(a: Tensor, s: number, out?: Tensor): Tensor;
  /** alpha·a + beta·b elementwise, same shapes (optimizers, residual adds). */
  axpby(alpha: number, a: Tensor, beta: number, b: Tensor, out?: Tensor): Tensor;

  /**
   * y = x / sqrt(mean(x²) + eps) · (weightOffset + weight), per row, in f32. x: [rows, d], weight: [d] any float.
   * weightOffset defaults to 0 (Gemma stores its norm weights as w − 1 and passes 1).
   */
  rmsNorm(x: Tensor, weight: Tensor, eps: number, out?: Tensor, weightOffset?: number): Tensor;
  /**
   * Rotary embedding, split-halves (`rotate_half`), in place on x: [tokens, heads, headDim].
   * positions: [tokens] i32. Rotates the first `rotaryDim` (default headDim) dims of each head. The angle of pair i
   * is f32(position · invFreq[i]); invFreq ([rotaryDim / 2] f32) defaults to HF's θ^(−2i/rotaryDim) in f32.
   */
  ropeInPlace(x: Tensor, positions: Int32Array, theta: number, rotaryDim?: number, invFreq?: Float32Array): Tensor;
  /**
   * Softmax over the last axis in f32. x: [rows, n]. With `causal`, row r (query index q = r mod queries of a
   * [.., queries, keys] block) may see keys j ≤ q + causal.offset, and with causal.window also only
   * q + causal.offset − j < window; the rest get 0.
   */
  softmax(x: Tensor, opts?: SoftmaxOptions, out?: Tensor): Tensor;
  silu(x: Tensor, out?: Tensor): Tensor;
  /** silu(gate) · up, elementwise. */
  siluGate(gate: Tensor, up: Tensor, out?: Tensor): Tensor;
  /** cap · tanh(x / cap), elementwise (Gemma 2's logit soft-capping). cap > 0. */
  tanhSoftcap(x: Tensor, cap: number, out?: Tensor): Tensor;
  /** gelu_tanh(gate) · up, elementwise (GeGLU); gelu_tanh(x) = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
  geluTanhGate(gate: Tensor, up: Tensor, out?: Tensor): Tensor;

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
  cast(x: Tensor, dtype: DType): Tensor;

  // ---- layout kernels the model forward needs (so it never touches host memory) ----

  /** A new f32 tensor equal to x (any float in), same shape. */
  copy(x: Tensor): Tensor;
  /** Rows [start, start+count) of x [rows, ...] as a new tensor of x's dtype (i32 and floats). */
  sliceRows(x: Tensor, start: number, count: number): Tensor;
  /** [a, b, c, d] → [a, c, b, d], f32 (e.g. [batch, pos, heads, dHead] ↔ [batch, heads, pos, dHead]). */
  swapAxes12(x: Tensor, out?: Tensor): Tensor;
  /**
   * In place on scores [batch, heads, queries, keys] (f32): −Infinity where key j > past + i (causal), where
   * past + i − j ≥ window (sliding window, when mask.window is set) and, for real queries (queryMask 1), where keyMask
   * marks a padding key. Padding queries keep their causal (windowed) keys (their rows never become all −Infinity).
   * queryMask: [batch·queries], keyMask: [batch·keys], host arrays.
   */
  maskScores(scores: Tensor, mask: AttentionMask): Tensor;
  /** cache[b, h, start + s, :] = src[b, s, h, :]. cache: [batch, heads, capacity, d] f32; src: [batch, seq, heads, d] f32. */
  writeSeq(cache: Tensor, src: Tensor, start: number): void;

  // ---- k-sparse codes and optimizer kernels (TopK SAE training); semantics in backends/js/sparse.ts, optim.ts ----

  /**
   * Per row of z [rows, n]: the k best of z + bias (bias [n]), ranked as topK, into out.values /
   * out.indices [rows, k]; with `among`, also the best among.k of z + bias restricted to the columns
   * listed in among.candidates (i32) into among.values / among.indices [rows, among.k]. z is unchanged.
   */
  biasTopK(z: Tensor, bias: Tensor, k: number, out: TopKOutput, among?: TopKAmong): void;
  /** out[r] += alpha · Σ_c relu(values[r, c]) · table[indices[r, c]], in c order. out [rows, d], indices i32 / values f32 [rows, kk], table [V, d] f32. */
  sparseDecode(out: Tensor, indices: Tensor, values: Tensor, table: Tensor, alpha: number): Tensor;
  /** Backward of a k-sparse encode/decode; see SparseCodesGrads. */
  sparseCodesBackward(
    indices: Tensor,
    values: Tensor,
    g: Tensor,
    x: Tensor,
    table: Tensor,
    grads: SparseCodesGrads,
  ): void;
  /** torch.optim.Adam on one [rows, cols] f32 parameter, in place; see AdamStep. */
  adamUpdate(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, step: AdamStep): void;
  /** grad[r] −= (grad[r]·w[r])·w[r] for rows flagged in rowMask (all rows without one). grad, w: [rows, d] f32. */
  projectOutRows(grad: Tensor, w: Tensor, rowMask?: Uint8Array): void;
  /** w[r] ← w[r] / (‖w[r]‖ + eps), in place. w: [rows, d] f32. */
  normalizeRows(w: Tensor, eps: number): void;
  /**
   * Optional fusion, for unit-norm rows (an SAE decoder): projectOutRows(grad, w, step.rowMask), adamUpdate(w, grad,
   * m, v, step) and normalizeRows(w, normEps) in turn, one row at a time, with the same results. Backends without it
   * get those three calls (ops.adamUpdateUnitRows).
   */
  adamUpdateUnitRows?(w: Tensor, grad: Tensor, m: Tensor, v: Tensor, step: AdamStep, normEps: number): void;

  /** Threads used by kernels that thread (native); js ignores it. */
  setThreads(n: number): void;
  getThreads(): number;
}

export type BackendName = "js" | "native" | "webgpu";

export interface AttentionMask {
  /** [batch·queries] 1 = real query. */
  readonly queryMask: Uint8Array;
  /** [batch·keys] 1 = real key (cached keys first, then this call's). */
  readonly keyMask: Uint8Array;
  /** Keys before this call's first query (the KV cache length). */
  readonly past: number;
  /**
   * Sliding window (HF's sliding-window causal mask): query at absolute position p = past + i sees key j only if
   * p − j < window. Absent: unlimited. An integer ≥ 1.
   */
  readonly window?: number;
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
  /** batchedGemm only: use the first bRows rows of each B matrix (B: [batch, R ≥ bRows, C]). */
  bRows?: number;
}

export interface SoftmaxOptions {
  /**
   * Causal mask for rows laid out as [..., queries, keys]: key j visible to query i iff j ≤ i + offset and, with a
   * `window` (an integer ≥ 1; absent: unlimited), i + offset − j < window (HF's sliding-window causal mask).
   */
  causal?: { queries: number; offset: number; window?: number };
}

export interface RmsNormOptions {
  /** Added to the weight before scaling: y = x̂ · (weightOffset + w). Default 0; Gemma uses 1. */
  weightOffset?: number;
  /** [..., d] f32 to write into. */
  out?: Tensor;
}

export interface RopeOptions {
  /** Rotate the first rotaryDim dims of each head (even, ≤ headDim; default headDim). */
  rotaryDim?: number;
  /**
   * [rotaryDim / 2] f32 inverse frequencies replacing θ^(−2i/rotaryDim) (RoPE scaling — llama3, linear, dynamic —
   * computes them on the host); the angle of pair i is f32(position · invFreq[i]). θ is then unused.
   */
  invFreq?: Float32Array;
}

export interface TopKOutput {
  /** [rows, k] f32, written. */
  values: Tensor;
  /** [rows, k] i32, written. */
  indices: Tensor;
}

export interface TopKAmong extends TopKOutput {
  /** Column indices (i32 [c]) to choose among. */
  candidates: Tensor;
  /** How many to keep per row (≤ c). */
  k: number;
}

/**
 * Gradients of a k-sparse code (row r uses table rows j = indices[r, c] with values a = values[r, c],
 * pairs with a ≤ 0 or NaN inactive, as after a ReLU) given the upstream gradient g = dL/d(decoded)
 * [rows, d] and the encoder input x [rows, d]. For each active pair, in increasing r:
 *   dz = g[r]·table[j];  table[j] += a·g[r];  encoder[j] += dz·x[r];  bias[j] += dz;  touched[j] = 1.
 * Accumulates into the arrays given (all [V, d] f32 except bias [V] f32 and touched u8 [V]).
 * Device backends accumulate in their own order (results equal up to f32 summation order) and do not write
 * `touched` (a host array): a device step passes no rowMask to adamUpdate / projectOutRows (same result: rows
 * without a gradient have g = 0).
 */
export interface SparseCodesGrads {
  table: Tensor;
  encoder: Tensor;
  bias: Tensor;
  touched: Uint8Array;
  /**
   * Rows whose touched flag is 0 on entry hold no gradient yet: their table, encoder and bias entries are
   * overwritten (as if they had been zero), not added to. A caller that keeps gradients only on touched rows
   * (adamUpdate with rowMask = touched, then touched cleared) then never zeroes the gradient matrices: the native
   * kernel writes such rows once, without reading them. Host backends only (`touched` is a host array).
   */
  overwriteUntouched?: boolean;
}

/**
 * One Adam update, as torch.optim.Adam (no amsgrad, no weight decay) in float64 arithmetic with
 * the moments stored as f32:
 *   m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  p ← p − stepSize · m / (√v / bc2Sqrt + eps)
 * with stepSize = lr / (1 − β1^t) and bc2Sqrt = √(1 − β2^t) (computed once by ops.adamUpdate).
 */
export interface AdamStep {
  stepSize: number;
  bc2Sqrt: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Row length of the [rows, cols] parameter (rowMask granularity). */
  cols: number;
  /** Rows whose gradient may be nonzero; other rows update with g = 0 without reading it. */
  rowMask?: Uint8Array;
  /** Zero the gradient rows that were read. */
  clearGrad?: boolean;
}
