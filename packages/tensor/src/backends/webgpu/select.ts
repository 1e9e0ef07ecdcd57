import type { Backend } from "../../backend.ts";
import { DTYPE_BYTES } from "../../dtype.ts";
import type { Tensor } from "../../tensor.ts";
import type { GpuContext } from "./context.ts";
import { anyFloatInput, F16_TO_F32, FLOAT_CODE, grid1d, main1d, packUniforms, rowSlices } from "./kernel-util.ts";

/*
 * Row gather and scatter-add. Tables larger than one storage binding (an embedding matrix) are bound in row
 * slices, one dispatch per slice, each handling the indices that fall in it. Indices are device data, so they are
 * not range-checked here (ops.ts checks host indices): out-of-range rows gather zeros and scatter nowhere.
 */

const GATHER = `${anyFloatInput(0, "table")}
@group(0) @binding(1) var<storage, read> indices: array<i32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
struct U { count: u32, d: u32, row_start: i32, row_count: i32, zero_others: u32, dtype: u32 }
@group(0) @binding(3) var<uniform> u: U;
${F16_TO_F32}
${main1d("u.count")}
  let r = indices[i / u.d] - u.row_start;
  if (r >= 0 && r < u.row_count) {
    out[i] = table_at(u32(r) * u.d + i % u.d, u.dtype);
  } else if (u.zero_others != 0u) {
    out[i] = 0.0;
  }
}`;

/** One invocation per column, walking the indices in order: deterministic, duplicates add in index order (as js). */
const SCATTER_ADD = `@group(0) @binding(0) var<storage, read_write> dst: array<f32>;
@group(0) @binding(1) var<storage, read> indices: array<i32>;
@group(0) @binding(2) var<storage, read> src: array<f32>;
struct U { d: u32, n: u32, row_start: i32, row_count: i32 }
@group(0) @binding(3) var<uniform> u: U;
${main1d("u.d")}
  for (var k = 0u; k < u.n; k++) {
    let r = indices[k] - u.row_start;
    if (r >= 0 && r < u.row_count) { dst[u32(r) * u.d + i] += src[k * u.d + i]; }
  }
}`;

export function selectKernels(ctx: GpuContext): Pick<Backend, "gatherRows" | "scatterAddRows"> {
  return {
    gatherRows(table: Tensor, indices: Tensor): Tensor {
      const [rows, d] = table.shape as [number, number];
      const n = indices.size;
      const slices = rowSlices(ctx, table, rows, d * DTYPE_BYTES[table.dtype]);
      const out = ctx.alloc("f32", [n, d], slices.length > 1);
      if (n * d === 0) return out;
      const pipeline = ctx.pipeline("gatherRows", () => GATHER);
      for (const slice of slices) {
        const uniforms = packUniforms([
          ["u32", n * d],
          ["u32", d],
          ["i32", slice.rowStart],
          ["i32", slice.rowCount],
          ["u32", slices.length === 1 ? 1 : 0],
          ["u32", FLOAT_CODE[table.dtype]!],
        ]);
        ctx.dispatch(pipeline, [slice.binding, indices, out], uniforms, grid1d(ctx, n * d));
      }
      return out;
    },

    scatterAddRows(target: Tensor, indices: Tensor, src: Tensor): Tensor {
      const [rows, d] = target.shape as [number, number];
      if (d === 0 || indices.size === 0) return target;
      const pipeline = ctx.pipeline("scatterAddRows", () => SCATTER_ADD);
      for (const slice of rowSlices(ctx, target, rows, d * 4)) {
        const uniforms = packUniforms([
          ["u32", d],
          ["u32", indices.size],
          ["i32", slice.rowStart],
          ["i32", slice.rowCount],
        ]);
        ctx.dispatch(pipeline, [slice.binding, indices, src], uniforms, grid1d(ctx, d));
      }
      return target;
    },
  };
}
