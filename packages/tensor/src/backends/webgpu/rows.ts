import type { Backend, SoftmaxOptions } from "../../backend.ts";
import type { Tensor } from "../../tensor.ts";
import type { GpuContext } from "./context.ts";
import {
  anyFloatInput,
  F16_TO_F32,
  FLOAT_CODE,
  gridRows,
  jointRowSlices,
  packUniforms,
  ROW_WG,
  writeTo,
} from "./kernel-util.ts";

/*
 * Row kernels: one workgroup of ROW_WG invocations per row; each invocation strides the row (coalesced), then a
 * reduction over the lanes in workgroup memory. Accumulation is f32 (the js reference accumulates in f64: equal within 1e-5
 * relative for rows up to ~10^5).
 */

/**
 * WGSL: reductions over the lanes of a workgroup (call in uniform control flow). Each lane reads all ROW_WG partials
 * between two barriers (broadcast reads of workgroup memory: cheap on a GPU) instead of a barrier per tree level:
 * every barrier costs lavapipe another coroutine split and seconds of cold compilation.
 */
const ROW_PRELUDE = `var<workgroup> partial: array<f32, ${ROW_WG}>;
fn reduce_sum(v: f32, lid: u32) -> f32 {
  partial[lid] = v;
  workgroupBarrier();
  var total = 0.0;
  for (var k = 0u; k < ${ROW_WG}u; k++) { total += partial[k]; }
  workgroupBarrier();
  return total;
}
fn reduce_max(v: f32, lid: u32) -> f32 {
  partial[lid] = v;
  workgroupBarrier();
  var total = partial[0];
  for (var k = 1u; k < ${ROW_WG}u; k++) { total = max(total, partial[k]); }
  workgroupBarrier();
  return total;
}`;

const ROW_MAIN = `@compute @workgroup_size(${ROW_WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = wid.y * nwg.x + wid.x;
  if (row >= u.rows) { return; }`;

const RMS_NORM = `@group(0) @binding(0) var<storage, read> x: array<f32>;
${anyFloatInput(1, "w")}
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
struct U { rows: u32, d: u32, eps: f32, w_dtype: u32, w_offset: f32 }
@group(0) @binding(3) var<uniform> u: U;
${F16_TO_F32}
${ROW_PRELUDE}
${ROW_MAIN}
  let base = row * u.d;
  var sq = 0.0;
  for (var j = lid; j < u.d; j += ${ROW_WG}u) { let v = x[base + j]; sq += v * v; }
  let inv = 1.0 / sqrt(reduce_sum(sq, lid) / f32(u.d) + u.eps);
  for (var j = lid; j < u.d; j += ${ROW_WG}u) { y[base + j] = x[base + j] * inv * (u.w_offset + w_at(j, u.w_dtype)); }
}`;

/**
 * Softmax over visible keys [first, visible) of each row; the rest 0. queries = 0: no causal mask; window = 0: no
 * sliding window (else only the last `window` causal keys).
 */
const SOFTMAX = `@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
struct U { rows: u32, n: u32, queries: u32, offset: i32, row_start: u32, window: u32 }
@group(0) @binding(2) var<uniform> u: U;
${ROW_PRELUDE}
${ROW_MAIN}
  let base = row * u.n;
  var visible = u.n;
  var first = 0u;
  if (u.queries > 0u) { visible = u32(clamp(i32((u.row_start + row) % u.queries) + u.offset + 1, 0, i32(u.n))); }
  if (u.window > 0u && visible > u.window) { first = visible - u.window; }
  // -FLT_MAX, not -inf (a WGSL constant may not be infinite): a row of -inf still gives 0/0 = NaN, as the reference.
  var m = -0x1.fffffep+127f;
  for (var j = first + lid; j < visible; j += ${ROW_WG}u) { m = max(m, x[base + j]); }
  m = reduce_max(m, lid);
  var s = 0.0;
  for (var j = first + lid; j < visible; j += ${ROW_WG}u) { s += exp(x[base + j] - m); }
  let total = reduce_sum(s, lid);
  for (var j = lid; j < u.n; j += ${ROW_WG}u) {
    y[base + j] = select(0.0, exp(x[base + j] - m) / total, j >= first && j < visible);
  }
}`;

export function rowKernels(ctx: GpuContext): Pick<Backend, "rmsNorm" | "softmax"> {
  return {
    rmsNorm(x: Tensor, weight: Tensor, eps: number, out?: Tensor, weightOffset = 0): Tensor {
      const d = weight.size;
      const rows = d === 0 ? 0 : x.size / d;
      return writeTo(ctx, out, x.shape, [x, weight], (y) => {
        if (rows === 0) return;
        const pipeline = ctx.pipeline("rmsNorm", () => RMS_NORM);
        const parts = [x, y].map((tensor) => ({ tensor, rowBytes: 4 * d }));
        for (const { rowCount, bindings } of jointRowSlices(ctx, rows, parts)) {
          const uniforms = packUniforms([
            ["u32", rowCount],
            ["u32", d],
            ["f32", eps],
            ["u32", FLOAT_CODE[weight.dtype]!],
            ["f32", weightOffset],
          ]);
          ctx.dispatch(pipeline, [bindings[0]!, weight, bindings[1]!], uniforms, gridRows(ctx, rowCount));
        }
      });
    },

    softmax(x: Tensor, opts: SoftmaxOptions = {}, out?: Tensor): Tensor {
      const n = x.shape[x.rank - 1]!;
      const rows = n === 0 ? 0 : x.size / n;
      return writeTo(ctx, out, x.shape, [x], (y) => {
        if (rows === 0) return;
        const pipeline = ctx.pipeline("softmax", () => SOFTMAX);
        const parts = [x, y].map((tensor) => ({ tensor, rowBytes: 4 * n }));
        for (const { rowStart, rowCount, bindings } of jointRowSlices(ctx, rows, parts)) {
          const uniforms = packUniforms([
            ["u32", rowCount],
            ["u32", n],
            ["u32", opts.causal?.queries ?? 0],
            ["i32", opts.causal?.offset ?? 0],
            ["u32", rowStart],
            ["u32", opts.causal?.window ?? 0],
          ]);
          ctx.dispatch(pipeline, bindings, uniforms, gridRows(ctx, rowCount));
        }
      });
    },
  };
}
