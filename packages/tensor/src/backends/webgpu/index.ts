import type { Backend } from "../../backend.ts";
import type { Tensor } from "../../tensor.ts";
import { castKernels } from "./cast.ts";
import { elementwiseKernels } from "./elementwise.ts";
import { batchedGemm, gemm } from "./gemm.ts";
import { setGemmTiled } from "./gemm-tiled-wgsl.ts";
import { type OpenOptions, openGpuContext, type WebgpuContext } from "./gpu-context.ts";
import { layoutKernels } from "./layout.ts";
import { reduceKernels } from "./reduce.ts";
import { ropeKernels } from "./rope.ts";
import { rowKernels } from "./rows.ts";
import { selectKernels } from "./select.ts";
import { saeKernels } from "./sparse-kernels.ts";
import { biasTopK, topK } from "./topk.ts";

export { type WebgpuAdapterReport, webgpuAdapterReport } from "./adapter.ts";
export type { OpenOptions } from "./gpu-context.ts";

/** The webgpu backend, with its context exposed (tests and selfcheck read compile times and limits; kernels use it). */
export interface WebgpuBackend extends Backend {
  readonly context: WebgpuContext;
}

/**
 * Opens a WebGPU device through the npm `webgpu` package (Dawn) and returns its backend: every kernel of the
 * interface as WGSL on that device. Rejects with DEVICE_UNAVAILABLE (saying why and how to get one) where none exists.
 * `js` is the host backend (unused by kernels today: every kernel runs on the device).
 */
export async function createWebgpuBackend(_js: Backend, options: OpenOptions = {}): Promise<WebgpuBackend> {
  const ctx = await openGpuContext(options);
  // Workgroup-memory GEMM tiles pay on GPUs, not on a CPU rasterizer (lavapipe: "software").
  setGemmTiled(ctx.adapter.architecture !== "software");
  return {
    name: "webgpu",
    device: "webgpu",
    context: ctx,
    upload: (t: Tensor) => ctx.fromHost(t.dtype, t.shape, t.data),
    download: (t: Tensor) => ctx.read(t),
    zeros: (shape, dtype) => ctx.alloc(dtype, shape, true),
    release: (t: Tensor) => ctx.release(t),
    sync: () => ctx.sync(),
    ...elementwiseKernels(ctx),
    ...rowKernels(ctx),
    ...ropeKernels(ctx),
    ...selectKernels(ctx),
    ...reduceKernels(ctx),
    ...castKernels(ctx),
    ...layoutKernels(ctx),
    gemm: (a, b, opts) => gemm(ctx, a, b, opts),
    batchedGemm: (a, b, opts) => batchedGemm(ctx, a, b, opts),
    topK: (x, k) => topK(ctx, x, k),
    biasTopK: (z, bias, k, out, among) => biasTopK(ctx, z, bias, k, out, among),
    setThreads: () => {},
    getThreads: () => 1,
    // Spread last: a placeholder of the same name left above would be a type error (TS2783), not an override.
    ...saeKernels(ctx),
  };
}
