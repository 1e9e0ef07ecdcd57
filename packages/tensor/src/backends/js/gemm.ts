import type { GemmOptions } from "../../backend.ts";
import { zeros } from "../../construct.ts";
import { bf16Lut, f16Lut } from "../../convert.ts";
import type { Tensor } from "../../tensor.ts";

/**
 * Reference GEMM: C = alpha·op(A)·op(B) + beta·C, each dot product accumulated in float64 and rounded
 * to f32 once. B may be f16/bf16; its elements are widened through a 65536-entry table as they are
 * read, so no f32 copy of B is ever made. With beta = 0, C is not read (NaNs in it do not propagate),
 * as in BLAS.
 */
export function gemm(a: Tensor, b: Tensor, opts: GemmOptions): Tensor {
  const { m, n, k } = gemmDims(a.shape, b.shape, opts);
  const c = opts.out ?? zeros([m, n], "f32");
  gemmInto(a.data as Float32Array, 0, b, 0, c.data as Float32Array, 0, m, n, k, opts);
  return c;
}

/** Per-batch gemm. A: [batch, M, K], B: [batch, K, N] (transposes as gemm) → [batch, M, N]. */
export function batchedGemm(a: Tensor, b: Tensor, opts: GemmOptions): Tensor {
  const batch = a.shape[0]!;
  const [, bR, bC] = b.shape as [number, number, number];
  const { m, n, k } = gemmDims(a.shape.slice(1), [opts.bRows ?? bR, bC], opts);
  const c = opts.out ?? zeros([batch, m, n], "f32");
  for (let p = 0; p < batch; p++) {
    gemmInto(a.data as Float32Array, p * m * k, b, p * bR * bC, c.data as Float32Array, p * m * n, m, n, k, opts);
  }
  return c;
}

export function gemmDims(
  aShape: readonly number[],
  bShape: readonly number[],
  opts: GemmOptions,
): { m: number; n: number; k: number } {
  const m = opts.transA ? aShape[1]! : aShape[0]!;
  const k = opts.transA ? aShape[0]! : aShape[1]!;
  const n = opts.transB ? bShape[0]! : bShape[1]!;
  return { m, n, k };
}

function gemmInto(
  a: Float32Array,
  aOff: number,
  bT: Tensor,
  bOff: number,
  c: Float32Array,
  cOff: number,
  m: number,
  n: number,
  k: number,
  opts: GemmOptions,
): void {
  const alpha = opts.alpha ?? 1;
  const beta = opts.beta ?? 0;
  // Element strides of op(A)[i, p] and op(B)[p, j] in storage.
  const [aRow, aCol] = opts.transA ? [1, m] : [k, 1];
  const [bRow, bCol] = opts.transB ? [1, k] : [n, 1];
  const table = bT.dtype === "bf16" ? bf16Lut() : bT.dtype === "f16" ? f16Lut() : null;
  const b32 = bT.data as Float32Array;
  const b16 = bT.data as Uint16Array;
  const acc = new Float64Array(n); // one output row
  for (let i = 0; i < m; i++) {
    acc.fill(0);
    if (bCol === 1) {
      // B rows contiguous: accumulate acc += A[i,p] · B[p,:] (cache-friendly for row-major B).
      for (let p = 0; p < k; p++) {
        const aip = a[aOff + i * aRow + p * aCol]!;
        const base = bOff + p * bRow;
        if (table) for (let j = 0; j < n; j++) acc[j]! += aip * table[b16[base + j]!]!;
        else for (let j = 0; j < n; j++) acc[j]! += aip * b32[base + j]!;
      }
    } else {
      // B transposed: each output is a dot product over contiguous storage rows of B.
      for (let j = 0; j < n; j++) {
        const base = bOff + j * bCol;
        let s = 0;
        if (table) for (let p = 0; p < k; p++) s += a[aOff + i * aRow + p * aCol]! * table[b16[base + p]!]!;
        else for (let p = 0; p < k; p++) s += a[aOff + i * aRow + p * aCol]! * b32[base + p]!;
        acc[j] = s;
      }
    }
    const row = cOff + i * n;
    for (let j = 0; j < n; j++) c[row + j] = beta === 0 ? alpha * acc[j]! : alpha * acc[j]! + beta * c[row + j]!;
  }
}
