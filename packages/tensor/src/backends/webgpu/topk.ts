import type { TopKAmong, TopKOutput } from "../../backend.ts";
import type { Tensor } from "../../tensor.ts";
import type { GpuContext } from "./context.ts";
import { TOPK_KMAX_WORKGROUP, type TopKMode, topKKey, topKWgsl } from "./topk-wgsl.ts";

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
  // Selections larger than workgroup memory holds are staged in a scratch buffer, two u32 per entry.
  const scratch = k > TOPK_KMAX_WORKGROUP ? ctx.alloc("i32", [rows, 2 * k]) : undefined;
  const pipeline = ctx.pipeline(topKKey(mode, !!scratch), () => topKWgsl(mode, !!scratch));
  const rowsPerX = Math.min(rows, ctx.limits.maxComputeWorkgroupsPerDimension);
  const params = new Uint32Array([rows, n, len, k, rowsPerX, 0, 0, 0]);
  const bindings = [...inputs, out.values, out.indices, ...(scratch ? [scratch] : [])];
  ctx.dispatch(pipeline, bindings, params, [rowsPerX, Math.ceil(rows / rowsPerX)]);
}
