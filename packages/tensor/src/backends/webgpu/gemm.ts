import type { GemmOptions } from "../../backend.ts";
import { DTYPE_BYTES } from "../../dtype.ts";
import { TensorError } from "../../errors.ts";
import type { Tensor } from "../../tensor.ts";
import type { BufferSlice, GpuContext } from "./context.ts";
import { gemmTiledWgsl, TILED, tiledPays } from "./gemm-tiled-wgsl.ts";
import { GEMM_WG, type GemmBType, type GemmVariant, gemm4x4Wgsl, gemmVariantKey } from "./gemm-wgsl.ts";

/**
 * GEMM dispatchers of the webgpu backend: C = alpha·op(A)·op(B) + beta·C with f32 accumulation, B f32 or packed
 * f16 / bf16 widened in the shader. A weight B larger than one storage binding (a 7B lm_head in bf16 is 1.09 GB;
 * bindings are 128 MiB – 2 GiB) is bound a block of its rows at a time, one dispatch per block: for transB that is a
 * column block of C, otherwise a K block accumulated into C (beta applied by the first block only).
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
 * C = alpha·op(A)·op(B) + beta·C. `maxWeightBindingBytes` (default: the context's maxBindingBytes) is the
 * largest block of B bound at once; tests lower it to exercise the split.
 */
export function gemm(
  ctx: GpuContext,
  a: Tensor,
  b: Tensor,
  opts: GemmOptions,
  maxWeightBindingBytes = ctx.maxBindingBytes,
): Tensor {
  const transA = !!opts.transA;
  const transB = !!opts.transB;
  const m = transA ? a.shape[1]! : a.shape[0]!;
  const k = transA ? a.shape[0]! : a.shape[1]!;
  const n = transB ? b.shape[0]! : b.shape[1]!;
  const c = opts.out ?? ctx.alloc("f32", [m, n]);
  if (m === 0 || n === 0) return c;
  checkBinding(ctx, a, "gemm", "a");
  checkBinding(ctx, c, "gemm", "out");
  const call: GemmCall = {
    m,
    n,
    k,
    lda: a.shape[1]!,
    ldb: b.shape[1]!,
    ldc: n,
    aOff: 0,
    bOff: 0,
    cOff: 0,
    aBatch: 0,
    bBatch: 0,
    cBatch: 0,
    batch: 1,
    alpha: opts.alpha ?? 1,
    beta: opts.beta ?? 0,
  };
  const bytes = DTYPE_BYTES[b.dtype];
  const rowBytes = b.shape[1]! * bytes;
  if (storageBytes(b) <= maxWeightBindingBytes) {
    dispatchGemm(ctx, a, b, c, call, transA, transB);
    return c;
  }
  // Split B by storage rows. Blocks start on a binding-offset boundary (aligned down; the rest is bOff) and hold a
  // multiple of 4 rows so every offset keeps the vec4 alignment.
  const align = ctx.limits.minStorageBufferOffsetAlignment;
  const blockRows = Math.floor((maxWeightBindingBytes - align) / rowBytes / 4) * 4;
  if (blockRows < 4) {
    throw new TensorError(
      "DEVICE_LIMIT",
      `gemm: weight b ${b.dtype} [${b.shape.join(", ")}] has ${rowBytes}-byte rows; a binding of ${maxWeightBindingBytes} bytes (maxStorageBufferBindingSize) cannot hold 4 of them`,
    );
  }
  const rows = b.shape[0]!;
  for (let r0 = 0; r0 < rows; r0 += blockRows) {
    const count = Math.min(blockRows, rows - r0);
    const start = r0 * rowBytes;
    const offset = Math.floor(start / align) * align;
    const end = Math.ceil(((r0 + count) * rowBytes) / 4) * 4;
    const slice: BufferSlice = { tensor: b, offset, size: end - offset };
    const bOff = (start - offset) / bytes;
    if (transB) {
      // Rows of B are columns of C.
      dispatchGemm(ctx, a, slice, c, { ...call, n: count, bOff, cOff: r0 }, transA, transB);
    } else {
      // Rows of B are a K block; later blocks accumulate.
      const first = r0 === 0;
      const aOff = transA ? r0 * call.lda : r0;
      dispatchGemm(ctx, a, slice, c, { ...call, k: count, aOff, bOff, beta: first ? call.beta : 1 }, transA, transB);
    }
  }
  return c;
}

/** Per-batch gemm. A: [batch, M, K] ([batch, K, M] with transA); B: [batch, R, C], of which the first bRows rows. */
export function batchedGemm(ctx: GpuContext, a: Tensor, b: Tensor, opts: GemmOptions): Tensor {
  const transA = !!opts.transA;
  const transB = !!opts.transB;
  const [batch, a1, a2] = a.shape as [number, number, number];
  const [, bR, bC] = b.shape as [number, number, number];
  const m = transA ? a2 : a1;
  const k = transA ? a1 : a2;
  const n = transB ? (opts.bRows ?? bR) : bC;
  const c = opts.out ?? ctx.alloc("f32", [batch, m, n]);
  if (batch === 0 || m === 0 || n === 0) return c;
  for (const [t, arg] of [
    [a, "a"],
    [b, "b"],
    [c, "out"],
  ] as const) {
    checkBinding(ctx, t, "batchedGemm", arg);
  }
  const call: GemmCall = {
    m,
    n,
    k,
    lda: a2,
    ldb: bC,
    ldc: n,
    aOff: 0,
    bOff: 0,
    cOff: 0,
    aBatch: a1 * a2,
    bBatch: bR * bC,
    cBatch: m * n,
    batch,
    alpha: opts.alpha ?? 1,
    beta: opts.beta ?? 0,
  };
  const maxZ = ctx.limits.maxComputeWorkgroupsPerDimension;
  for (let p0 = 0; p0 < batch; p0 += maxZ) {
    const part = Math.min(maxZ, batch - p0);
    const shifted = { aOff: p0 * call.aBatch, bOff: p0 * call.bBatch, cOff: p0 * call.cBatch, batch: part };
    dispatchGemm(ctx, a, b, c, { ...call, ...shifted }, transA, transB);
  }
  return c;
}

function dispatchGemm(
  ctx: GpuContext,
  a: Tensor,
  b: Tensor | BufferSlice,
  c: Tensor,
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
  const useTiled = tiledPays(call.m, call.n, call.k, call.batch);
  const variant: GemmVariant = { transA, transB, bType, vecA, vecB, readC: call.beta !== 0 };
  // A few rows (GEMV-like): all 64 invocations along N; otherwise 8 × 8 (32 × 32 outputs).
  const wgX = call.m <= 4 ? GEMM_WG : 8;
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
  // K = 0 leaves A and B empty, and a binding cannot be: a 16-byte stand-in (a vec4 binding's minimum) is bound (the K loop never reads it).
  const empty = call.k === 0 ? ctx.alloc("f32", [4]) : undefined;
  ctx.dispatch(pipeline, [empty ?? a, empty ?? b, c], params, workgroups);
}

/** Bytes a tensor occupies on the device (padded to 4). */
function storageBytes(t: Tensor): number {
  return Math.ceil((t.size * DTYPE_BYTES[t.dtype]) / 4) * 4;
}

function checkBinding(ctx: GpuContext, t: Tensor, op: string, arg: string): void {
  const limit = ctx.maxBindingBytes;
  if (storageBytes(t) > limit) {
    throw new TensorError(
      "DEVICE_LIMIT",
      `${op}: ${arg} ${t.dtype} [${t.shape.join(", ")}] is ${storageBytes(t)} bytes, more than one binding holds (maxStorageBufferBindingSize ${limit}); only the weight b is split — pass fewer rows`,
    );
  }
}
