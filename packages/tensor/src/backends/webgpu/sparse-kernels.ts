import type { Backend } from "../../backend.ts";
import type { GpuContext } from "./context.ts";
import { adamUpdate, normalizeRows, projectOutRows } from "./optim.ts";
import { sparseCodesBackward } from "./sparse-backward.ts";
import { sparseDecode } from "./sparse-decode.ts";

/** The TopK SAE training kernels of the webgpu backend (biasTopK lives with top-k in the selection kernels). */
export function saeKernels(
  ctx: GpuContext,
): Pick<Backend, "sparseDecode" | "sparseCodesBackward" | "adamUpdate" | "projectOutRows" | "normalizeRows"> {
  return {
    sparseDecode: (out, indices, values, table, alpha) => sparseDecode(ctx, out, indices, values, table, alpha),
    sparseCodesBackward: (indices, values, g, x, table, grads) =>
      sparseCodesBackward(ctx, indices, values, g, x, table, grads),
    adamUpdate: (param, grad, m, v, step) => adamUpdate(ctx, param, grad, m, v, step),
    projectOutRows: (grad, w, rowMask) => projectOutRows(ctx, grad, w, rowMask),
    normalizeRows: (w, eps) => normalizeRows(ctx, w, eps),
  };
}
