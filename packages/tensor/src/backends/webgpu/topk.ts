import type { TopKAmong, TopKOutput } from "../../backend.ts";
import type { Tensor } from "../../tensor.ts";
import type { GpuContext } from "./context.ts";
import { TOPK_KEY, TOPK_MODE, type TopKMode, topKWgsl } from "./topk-wgsl.ts";

/**
 * Top-k dispatchers of the webgpu backend (semantics of backends/js/select.ts and sparse.ts, bit for bit: the
 * selection compares f32 bit patterns, and the bias sum is one f32 add). One workgroup per row.
 */

/** k largest per row of x [..., n]: values f32 [..., k] descending, indices i32 [..., k]. */
export function topK(ctx: GpuContext, x: Tensor, k: number): { values: Tensor; indices: Tensor } {
  const n = x.shape[x.shape.length - 1]!;
  const rows = n === 0 ? 0 : x.size / n;
  const outShape = [...x.shape.slice(0, -1), k];
  const values = ctx.alloc("f32", outShape);
  const indices = ctx.alloc("i32", outShape);
  selectRows(ctx, "plain", [x], { values, indices }, rows, n, n, k);
  return { values, indices };
}

/**
 * Per row of z [rows, n]: the k best of z + bias into out, and with `among` the best among.k of z + bias over the
 * candidate columns into among.values / among.indices. z is unchanged.
 */
export function biasTopK(
  ctx: GpuContext,
  z: Tensor,
  bias: Tensor,
  k: number,
  out: TopKOutput,
  among?: TopKAmong,
): void {
  const n = bias.size;
  const rows = n === 0 ? 0 : z.size / n;
  selectRows(ctx, "bias", [z, bias], out, rows, n, n, k);
  if (among) selectRows(ctx, "among", [z, bias, among.candidates], among, rows, n, among.candidates.size, among.k);
}

function selectRows(
  ctx: GpuContext,
  mode: TopKMode,
  inputs: Tensor[],
  out: TopKOutput,
  rows: number,
  n: number,
  len: number,
  k: number,
): void {
  if (rows === 0 || k === 0) return;
  const sel = ctx.alloc("i32", [rows, 2 * k]);
  const pipeline = ctx.pipeline(TOPK_KEY, topKWgsl);
  const rowsPerX = Math.min(rows, ctx.limits.maxComputeWorkgroupsPerDimension);
  const params = new Uint32Array([rows, n, len, k, rowsPerX, TOPK_MODE[mode], 0, 0]);
  // Modes without a bias or candidates bind a small stand-in there (never read).
  const [src, bias, cand] = [inputs[0]!, inputs[1] ?? standIn(ctx), inputs[2] ?? standIn(ctx)];
  ctx.dispatch(pipeline, [src, bias, cand, out.values, out.indices, sel], params, [
    rowsPerX,
    Math.ceil(rows / rowsPerX),
  ]);
}

function standIn(ctx: GpuContext): Tensor {
  return ctx.alloc("f32", [4]);
}
