import { zeros } from "../../construct.ts";
import { floatSliceToF32 } from "../../convert.ts";
import type { Tensor } from "../../tensor.ts";

/**
 * Ranking used by topK on every backend: larger value first, NaN above +Inf (as torch.topk does),
 * −0 equal to +0, and equal values in index order.
 */
export function ranksBefore(va: number, ia: number, vb: number, ib: number): boolean {
  const na = Number.isNaN(va);
  const nb = Number.isNaN(vb);
  if (na || nb) return na && (!nb || ia < ib);
  return va > vb || (va === vb && ia < ib);
}

/** k best per row of x: [rows, n] → values f32 [rows, k] (descending), indices i32 [rows, k]. Full sort per row: the readable reference. */
export function topK(x: Tensor, k: number): { values: Tensor; indices: Tensor } {
  const n = x.shape[x.shape.length - 1]!;
  const rows = n === 0 ? 0 : x.size / n;
  const outShape = [...x.shape.slice(0, -1), k];
  const values = zeros(outShape, "f32");
  const indices = zeros(outShape, "i32");
  const xs = x.data as Float32Array;
  const order = new Array<number>(n);
  for (let r = 0; r < rows; r++) {
    const base = r * n;
    for (let j = 0; j < n; j++) order[j] = j;
    order.sort((a, b) => (ranksBefore(xs[base + a]!, a, xs[base + b]!, b) ? -1 : 1));
    for (let j = 0; j < k; j++) {
      values.data[r * k + j] = xs[base + order[j]!]!;
      indices.data[r * k + j] = order[j]!;
    }
  }
  return { values, indices };
}

/** out[i, :] = table[indices[i], :] as f32. table: [V, d] any float, indices: i32 [n] → [n, d]. */
export function gatherRows(table: Tensor, indices: Tensor): Tensor {
  const d = table.shape[1]!;
  const idx = indices.data as Int32Array;
  const out = zeros([idx.length, d], "f32");
  for (let i = 0; i < idx.length; i++) {
    const row = floatSliceToF32(table.dtype as "f32", table.data as Float32Array, idx[i]! * d, d);
    out.data.set(row, i * d);
  }
  return out;
}

/** target[indices[i], :] += src[i, :], in order of i. target: [V, d] f32, src: [n, d] f32. */
export function scatterAddRows(target: Tensor, indices: Tensor, src: Tensor): Tensor {
  const d = target.shape[1]!;
  const idx = indices.data as Int32Array;
  const t = target.data as Float32Array;
  const s = src.data as Float32Array;
  for (let i = 0; i < idx.length; i++) {
    const base = idx[i]! * d;
    for (let j = 0; j < d; j++) t[base + j]! += s[i * d + j]!;
  }
  return target;
}
