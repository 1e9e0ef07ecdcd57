import type { GemmOptions } from "../../backend.ts";
import { DTYPE_BYTES } from "../../dtype.ts";
import { TensorError } from "../../errors.ts";
import type { Tensor } from "../../tensor.ts";
import type { BufferSlice, GpuContext } from "./context.ts";
import { gemmTiledWgsl, TILED, tiledPays } from "./gemm-tiled-wgsl.ts";
import { GEMM_WG, type GemmBType, type GemmVariant, gemm4x4Wgsl, gemmVariantKey } from "./gemm-wgsl.ts";

/**
 * GEMM dispatchers of the webgpu backend: C = alpha·op(A)·op(B) + beta·C with f32 accumulation, B f32 or packed
 * f16 / bf16 widened in the shader. Operands larger than one storage binding (a 7B lm_head in bf16 is 1.09 GB,
 * its logits for a long prompt as large; bindings are 128 MiB – 2 GiB) are bound a block of storage rows at a time,
 * one dispatch per block pair: rows of A and C (M blocks), and rows of the weight B — for transB a column block
 * of C, otherwise a K block accumulated into C (beta applied by the first K block only). A transposed A is not
 * split (its rows are K); batchedGemm splits by batch entries.
 */

/** Shapes of one dispatch in elements (see gemm-wgsl.ts for the addressing). */
interface GemmCall {
  m: number;
  n: number;
  k: number;
  lda: number;
  ldb: number;
  ldc: number;
  aOff: number;
  bOff: number;
  cOff: number;
  aBatch: number;
  bBatch: number;
  cBatch: number;
  batch: number;
  alpha: number;
  beta: number;
}

/**
 * C = alpha·op(A)·op(B) + beta·C. `maxBindingBytes` (default: the context's) is the largest block bound at once;
 * tests lower it to exercise the split.
 */
export function gemm(
  ctx: GpuContext,
  a: Tensor,
  b: Tensor,
  opts: GemmOptions,
  maxBindingBytes = ctx.maxBindingBytes,
): Tensor {
  const transA = !!opts.transA;
  const transB = !!opts.transB;
  const m = transA ? a.shape[1]! : a.shape[0]!;
  const k = transA ? a.shape[0]! : a.shape[1]!;
  const n = transB ? b.shape[0]! : b.shape[1]!;
  const c = opts.out ?? ctx.alloc("f32", [m, n]);
  if (m === 0 || n === 0) return c;
  const [lda, ldb] = [a.shape[1]!, b.shape[1]!];
  const call: GemmCall = {
    ...{ m, n, k, lda, ldb, ldc: n, aOff: 0, bOff: 0, cOff: 0, aBatch: 0, bBatch: 0, cBatch: 0, batch: 1 },
    ...{ alpha: opts.alpha ?? 1, beta: opts.beta ?? 0 },
  };
  const limit = maxBindingBytes;
  if (transA && storageBytes(a) > limit) throw tooLarge("gemm", "a (transposed: its rows are K, not split)", a, limit);
  // M blocks: rows of A (stored [M, K]) and of C together; B blocks: storage rows of B.
  const mBlock = Math.min(
    transA ? Infinity : rowsPerBinding(ctx, a, lda, limit, "gemm", "a"),
    rowsPerBinding(ctx, c, n, limit, "gemm", "out"),
  );
  const bBlock = rowsPerBinding(ctx, b, ldb, limit, "gemm", "b");
  const bRowCount = b.shape[0]!;
  for (let i0 = 0; i0 < m; i0 += mBlock) {
    const mc = Math.min(mBlock, m - i0);
    const aRows = transA ? { binding: a, offset: i0 } : bindRows(ctx, a, i0, mc, lda, limit);
    const cRows = bindRows(ctx, c, i0, mc, n, limit);
    // At least one dispatch: with K = 0 (no rows in B) it still writes C = beta·C.
    for (let r0 = 0; r0 === 0 || r0 < bRowCount; r0 += bBlock) {
      const count = Math.min(bBlock, bRowCount - r0);
      const bRows = bindRows(ctx, b, r0, count, ldb, limit);
      const block = { m: mc, aOff: aRows.offset, bOff: bRows.offset, cOff: cRows.offset };
      // transB: rows of B are columns of C. Otherwise they are a K block; later blocks accumulate.
      const part = transB
        ? { n: count, cOff: cRows.offset + r0 }
        : { k: count, aOff: aRows.offset + (transA ? r0 * lda : r0), beta: r0 === 0 ? call.beta : 1 };
      dispatchGemm(ctx, aRows.binding, bRows.binding, cRows.binding, { ...call, ...block, ...part }, transA, transB);
    }
  }
  return c;
}

/** Per-batch gemm. A: [batch, M, K] ([batch, K, M] with transA); B: [batch, R, C], of which the first bRows rows. */
export function batchedGemm(
  ctx: GpuContext,
  a: Tensor,
  b: Tensor,
  opts: GemmOptions,
  maxBindingBytes = ctx.maxBindingBytes,
): Tensor {
  const transA = !!opts.transA;
  const transB = !!opts.transB;
  const [batch, a1, a2] = a.shape as [number, number, number];
  const [, bR, bC] = b.shape as [number, number, number];
  const m = transA ? a2 : a1;
  const k = transA ? a1 : a2;
  const n = transB ? (opts.bRows ?? bR) : bC;
  const c = opts.out ?? ctx.alloc("f32", [batch, m, n]);
  if (batch === 0 || m === 0 || n === 0) return c;
  const [aBatch, bBatch, cBatch] = [a1 * a2, bR * bC, m * n];
  const call: GemmCall = {
    ...{ m, n, k, lda: a2, ldb: bC, ldc: n, aOff: 0, bOff: 0, cOff: 0, aBatch, bBatch, cBatch, batch },
    ...{ alpha: opts.alpha ?? 1, beta: opts.beta ?? 0 },
  };
  // Blocks of whole batch entries (each operand's entries are its "rows"), at most one workgroup row of z each.
  const limit = maxBindingBytes;
  const block = Math.min(
    ctx.limits.maxComputeWorkgroupsPerDimension,
    rowsPerBinding(ctx, a, aBatch, limit, "batchedGemm", "a", 1),
    rowsPerBinding(ctx, b, bBatch, limit, "batchedGemm", "b", 1),
    rowsPerBinding(ctx, c, cBatch, limit, "batchedGemm", "out", 1),
  );
  for (let p0 = 0; p0 < batch; p0 += block) {
    const count = Math.min(block, batch - p0);
    const [aRows, bRows, cRows] = [
      bindRows(ctx, a, p0, count, aBatch, limit),
      bindRows(ctx, b, p0, count, bBatch, limit),
      bindRows(ctx, c, p0, count, cBatch, limit),
    ];
    const shifted = { aOff: aRows.offset, bOff: bRows.offset, cOff: cRows.offset, batch: count };
    dispatchGemm(ctx, aRows.binding, bRows.binding, cRows.binding, { ...call, ...shifted }, transA, transB);
  }
  return c;
}

function dispatchGemm(
  ctx: GpuContext,
  a: Tensor | BufferSlice,
  b: Tensor | BufferSlice,
  c: Tensor | BufferSlice,
  call: GemmCall,
  transA: boolean,
  transB: boolean,
): void {
  const bTensor = "tensor" in b ? b.tensor : b;
  const bType: GemmBType =
    bTensor.dtype === "f32" ? "f32" : bTensor.dtype === "bf16" ? "bf16" : ctx.hasF16 ? "f16native" : "f16";
  // vec4 loads need every run start ≡ 0 mod 4: the storage row length, the offsets and the batch strides.
  const aligned = (...xs: number[]) => xs.every((x) => x % 4 === 0);
  const vecA = aligned(call.lda, call.aOff, call.aBatch);
  const vecB = aligned(call.ldb, call.bOff, call.bBatch);
  const useTiled = tiledPays(call.m, call.n, call.k);
  const variant: GemmVariant = { transA, transB, bType, vecA, vecB, readC: call.beta !== 0 };
  // A few rows (GEMV-like): all 64 invocations along N; a few columns: most along M; else 8 × 8 (32 × 32 outputs).
  const wgX = call.m <= 4 ? GEMM_WG : Math.min(8, 2 ** Math.ceil(Math.log2(Math.ceil(call.n / 4))));
  const pipeline = useTiled
    ? ctx.pipeline(`tiled-${gemmVariantKey(variant)}`, () => gemmTiledWgsl(variant))
    : ctx.pipeline(gemmVariantKey(variant), () => gemm4x4Wgsl(variant));
  const params = new ArrayBuffer(64);
  const u = new Uint32Array(params);
  u.set([call.m, call.n, call.k, call.lda, call.ldb, call.ldc, call.aOff, call.bOff, call.cOff]);
  u.set([call.aBatch, call.bBatch, call.cBatch], 9);
  new Float32Array(params, 48, 2).set([call.alpha, call.beta]);
  u[14] = wgX;
  const perX = useTiled ? TILED.tileN : 4 * wgX;
  const perY = useTiled ? TILED.tileM : (4 * GEMM_WG) / wgX;
  const workgroups: [number, number, number] = [Math.ceil(call.n / perX), Math.ceil(call.m / perY), call.batch];
  const maxDim = ctx.limits.maxComputeWorkgroupsPerDimension;
  if (workgroups[0] > maxDim || workgroups[1] > maxDim) {
    throw new TensorError(
      "DEVICE_LIMIT",
      `gemm: C [${call.m}, ${call.n}] needs ${workgroups[0]}×${workgroups[1]} workgroups; the device allows ${maxDim} per dimension`,
    );
  }
  // K = 0 leaves A and B empty, and a binding cannot be: a 16-byte stand-in (a vec4 binding's minimum) takes
  // their place (the K loop never reads it).
  const empty = call.k === 0 ? ctx.alloc("f32", [4]) : undefined;
  ctx.dispatch(pipeline, [empty ?? a, empty ?? b, c], params, workgroups);
}

/** Bytes a tensor occupies on the device (padded to 4). */
function storageBytes(t: Tensor): number {
  return Math.ceil((t.size * DTYPE_BYTES[t.dtype]) / 4) * 4;
}

/**
 * How many storage rows of `rowElems` elements go in one binding of t: all (Infinity) when t fits one, else a
 * multiple of `multiple` (4 keeps the vec4 alignment of every block offset) leaving room to align the start down.
 */
function rowsPerBinding(
  ctx: GpuContext,
  t: Tensor,
  rowElems: number,
  limit: number,
  op: string,
  arg: string,
  multiple = 4,
): number {
  if (storageBytes(t) <= limit) return Number.POSITIVE_INFINITY;
  const rowBytes = rowElems * DTYPE_BYTES[t.dtype];
  const rows = Math.floor((limit - ctx.limits.minStorageBufferOffsetAlignment) / rowBytes / multiple) * multiple;
  if (rows < multiple) throw tooLarge(op, `${arg} (${rowBytes}-byte rows, ${multiple} at least per block)`, t, limit);
  return rows;
}

/** Storage rows [first, first + count) of t: its binding (t itself when it fits one) and row first's element offset there. */
function bindRows(
  ctx: GpuContext,
  t: Tensor,
  first: number,
  count: number,
  rowElems: number,
  limit: number,
): { binding: Tensor | BufferSlice; offset: number } {
  if (storageBytes(t) <= limit) return { binding: t, offset: first * rowElems };
  const bytes = DTYPE_BYTES[t.dtype];
  const align = ctx.limits.minStorageBufferOffsetAlignment;
  const start = first * rowElems * bytes;
  const offset = Math.floor(start / align) * align;
  const end = Math.ceil(((first + count) * rowElems * bytes) / 4) * 4;
  return { binding: { tensor: t, offset, size: end - offset }, offset: (start - offset) / bytes };
}

function tooLarge(op: string, what: string, t: Tensor, limit: number): TensorError {
  return new TensorError(
    "DEVICE_LIMIT",
    `${op}: ${what} ${t.dtype} [${t.shape.join(", ")}] is ${storageBytes(t)} bytes; a storage binding holds ${limit} (maxStorageBufferBindingSize) and it cannot be split into blocks that fit`,
  );
}
