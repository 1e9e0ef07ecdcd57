import type { Backend } from "../../backend.ts";
import type { Tensor } from "../../tensor.ts";
import { axisView } from "../js/reduce.ts";
import type { GpuContext } from "./context.ts";
import { grid1d, gridRows, jointRowSlices, main1d, packUniforms, ROW_WG } from "./kernel-util.ts";

/*
 * Reductions over one axis of x viewed as [outer, len, inner]. Over the last axis (inner = 1): one workgroup per row
 * (lanes stride the row, lane 0 merges them); otherwise one invocation per output walking the axis (consecutive invocations read
 * consecutive inner elements: coalesced). Semantics as the js backend: max is NaN when any element is NaN and −Inf
 * on an empty axis; argmax takes the first maximum, and the first NaN counts as the maximum; accumulation is f32.
 */

type Kind = "sum" | "mean" | "max" | "argmax";
/** The op is a uniform: two pipelines (row, strided) serve all four reductions. */
const OP: Readonly<Record<Kind, number>> = { sum: 0, mean: 1, max: 2, argmax: 3 };

/** WGSL shared by both variants: NaN tests on bits (immune to fast-math), the combine step, the argmax order. */
const COMMON = `@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
struct U { outer: u32, len: u32, inner: u32, init: f32, op: u32 }
@group(0) @binding(2) var<uniform> u: U;
fn is_nan(v: f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u; }
fn combine(a: f32, b: f32) -> f32 {
  if (u.op == ${OP.max}u) { return select(select(max(a, b), b, is_nan(b)), a, is_nan(a)); }
  return a + b;
}
// Whether (vb, ib) ranks before (va, ia) for argmax: NaN first, then larger, then lower index.
fn argmax_before(va: f32, ia: u32, vb: f32, ib: u32) -> bool {
  if (is_nan(va) || is_nan(vb)) { return is_nan(vb) && (!is_nan(va) || ib < ia); }
  return vb > va || (vb == va && ib < ia);
}
fn result(acc: f32, at: u32) -> u32 {
  if (u.op == ${OP.argmax}u) { return at; }
  if (u.op == ${OP.mean}u) { return bitcast<u32>(acc / f32(u.len)); }
  return bitcast<u32>(acc);
}`;

/** inner > 1: one invocation per output walking the axis. */
const STRIDED = `${COMMON}
${main1d("u.outer * u.inner")}
  let base = (i / u.inner) * u.len * u.inner + i % u.inner;
  var acc = u.init;
  var at = 0u;
  if (u.op == ${OP.argmax}u) {
    acc = x[base];
    for (var a = 1u; a < u.len; a++) {
      let v = x[base + a * u.inner];
      if (argmax_before(acc, at, v, a)) { acc = v; at = a; }
    }
  } else {
    for (var a = 0u; a < u.len; a++) { acc = combine(acc, x[base + a * u.inner]); }
  }
  out[i] = result(acc, at);
}`;

/** inner = 1: one workgroup per row, lanes stride the row, then lane 0 merges the lanes. */
const ROW = `${COMMON}
const NONE = 0xffffffffu;
var<workgroup> values: array<f32, ${ROW_WG}>;
var<workgroup> best_at: array<u32, ${ROW_WG}>;
@compute @workgroup_size(${ROW_WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = wid.y * nwg.x + wid.x;
  if (row >= u.outer) { return; }
  let base = row * u.len;
  let arg = u.op == ${OP.argmax}u;
  var acc = u.init;
  var at = NONE;
  for (var a = lid; a < u.len; a += ${ROW_WG}u) {
    let v = x[base + a];
    if (!arg) { acc = combine(acc, v); } else if (at == NONE || argmax_before(acc, at, v, a)) { acc = v; at = a; }
  }
  values[lid] = acc;
  best_at[lid] = at;
  // One barrier, then lane 0 merges the lanes in order (a barrier per tree level would cost lavapipe seconds of
  // cold compilation; 64 reads of workgroup memory cost a GPU next to nothing).
  workgroupBarrier();
  if (lid != 0u) { return; }
  acc = values[0];
  at = best_at[0];
  for (var k = 1u; k < ${ROW_WG}u; k++) {
    if (!arg) {
      acc = combine(acc, values[k]);
    } else if (best_at[k] != NONE && (at == NONE || argmax_before(acc, at, values[k], best_at[k]))) {
      acc = values[k];
      at = best_at[k];
    }
  }
  out[row] = result(acc, at);
}`;

function reduce(ctx: GpuContext, kind: Kind, x: Tensor, axis: number): Tensor {
  const { outer, len, inner, outShape } = axisView(x.shape, axis);
  const out = ctx.alloc(kind === "argmax" ? "i32" : "f32", outShape);
  if (outer * inner === 0) return out;
  // Row ranges of the outer dimension when x or out is larger than one binding.
  const parts = [
    { tensor: x, rowBytes: 4 * len * inner },
    { tensor: out, rowBytes: 4 * inner },
  ];
  for (const { rowCount, bindings } of jointRowSlices(ctx, outer, parts)) {
    const uniforms = packUniforms([
      ["u32", rowCount],
      ["u32", len],
      ["u32", inner],
      ["f32", kind === "max" ? -Infinity : 0],
      ["u32", OP[kind]],
    ]);
    if (inner === 1)
      ctx.dispatch(
        ctx.pipeline("reduce.row", () => ROW),
        bindings,
        uniforms,
        gridRows(ctx, rowCount),
      );
    else
      ctx.dispatch(
        ctx.pipeline("reduce.strided", () => STRIDED),
        bindings,
        uniforms,
        grid1d(ctx, rowCount * inner),
      );
  }
  return out;
}

export function reduceKernels(ctx: GpuContext): Pick<Backend, "sum" | "mean" | "max" | "argmax"> {
  return {
    sum: (x, axis) => reduce(ctx, "sum", x, axis),
    mean: (x, axis) => reduce(ctx, "mean", x, axis),
    max: (x, axis) => reduce(ctx, "max", x, axis),
    argmax: (x, axis) => reduce(ctx, "argmax", x, axis),
  };
}
