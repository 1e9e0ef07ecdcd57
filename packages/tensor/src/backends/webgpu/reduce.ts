import type { Backend } from "../../backend.ts";
import type { Tensor } from "../../tensor.ts";
import { axisView } from "../js/reduce.ts";
import type { GpuContext } from "./context.ts";
import { grid1d, gridRows, main1d, packUniforms, WG } from "./kernel-util.ts";

/*
 * Reductions over one axis of x viewed as [outer, len, inner]. Over the last axis (inner = 1): one workgroup per row
 * with a tree reduction; otherwise one invocation per output walking the axis (consecutive invocations read
 * consecutive inner elements: coalesced). Semantics as the js backend: max is NaN when any element is NaN and −Inf
 * on an empty axis; argmax takes the first maximum, and the first NaN counts as the maximum; accumulation is f32.
 */

type Kind = "sum" | "mean" | "max" | "argmax";

/** WGSL shared by every variant: NaN tests on bits (immune to fast-math), and the argmax ordering. */
const COMMON = `fn is_nan(v: f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u; }
fn max_nan(a: f32, b: f32) -> f32 { return select(select(max(a, b), b, is_nan(b)), a, is_nan(a)); }
// Whether (vb, ib) ranks before (va, ia) for argmax: NaN first, then larger, then lower index.
fn argmax_before(va: f32, ia: u32, vb: f32, ib: u32) -> bool {
  if (is_nan(va) || is_nan(vb)) { return is_nan(vb) && (!is_nan(va) || ib < ia); }
  return vb > va || (vb == va && ib < ia);
}`;

const UNIFORMS = `struct U { outer: u32, len: u32, inner: u32, init: f32 }
@group(0) @binding(2) var<uniform> u: U;
@group(0) @binding(0) var<storage, read> x: array<f32>;`;

function outDecl(kind: Kind): string {
  return `@group(0) @binding(1) var<storage, read_write> out: array<${kind === "argmax" ? "i32" : "f32"}>;`;
}

function combine(kind: Kind, a: string, b: string): string {
  return kind === "max" ? `max_nan(${a}, ${b})` : `${a} + ${b}`;
}

function finish(kind: Kind, acc: string): string {
  return kind === "mean" ? `${acc} / f32(u.len)` : acc;
}

/** inner > 1: one invocation per output. */
function stridedShader(kind: Kind): string {
  const body =
    kind === "argmax"
      ? `var best = x[base];
  var at = 0u;
  for (var a = 1u; a < u.len; a++) {
    let v = x[base + a * u.inner];
    if (argmax_before(best, at, v, a)) { best = v; at = a; }
  }
  out[i] = i32(at);`
      : `var acc = u.init;
  for (var a = 0u; a < u.len; a++) { acc = ${combine(kind, "acc", "x[base + a * u.inner]")}; }
  out[i] = ${finish(kind, "acc")};`;
  return `${UNIFORMS}
${outDecl(kind)}
${COMMON}
${main1d("u.outer * u.inner")}
  let base = (i / u.inner) * u.len * u.inner + i % u.inner;
  ${body}
}`;
}

/** inner = 1: one workgroup per row, lanes stride the row, then a tree over the lanes. */
function rowShader(kind: Kind): string {
  const isArg = kind === "argmax";
  const lane = isArg
    ? `var best = u.init;
  var at = 0xffffffffu;
  for (var a = lid; a < u.len; a += ${WG}u) {
    let v = x[base + a];
    if (at == 0xffffffffu || argmax_before(best, at, v, a)) { best = v; at = a; }
  }
  values[lid] = best;
  best_at[lid] = at;`
    : `var acc = u.init;
  for (var a = lid; a < u.len; a += ${WG}u) { acc = ${combine(kind, "acc", "x[base + a]")}; }
  values[lid] = acc;`;
  const merge = isArg
    ? `if (lid < s && best_at[lid + s] != 0xffffffffu &&
        (best_at[lid] == 0xffffffffu || argmax_before(values[lid], best_at[lid], values[lid + s], best_at[lid + s]))) {
      values[lid] = values[lid + s];
      best_at[lid] = best_at[lid + s];
    }`
    : `if (lid < s) { values[lid] = ${combine(kind, "values[lid]", "values[lid + s]")}; }`;
  return `${UNIFORMS}
${outDecl(kind)}
${COMMON}
var<workgroup> values: array<f32, ${WG}>;
var<workgroup> best_at: array<u32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = wid.y * nwg.x + wid.x;
  if (row >= u.outer) { return; }
  let base = row * u.len;
  ${lane}
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    ${merge}
    workgroupBarrier();
  }
  if (lid == 0u) { out[row] = ${isArg ? "i32(best_at[0])" : finish(kind, "values[0]")}; }
}`;
}

function reduce(ctx: GpuContext, kind: Kind, x: Tensor, axis: number): Tensor {
  const { outer, len, inner, outShape } = axisView(x.shape, axis);
  const out = ctx.alloc(kind === "argmax" ? "i32" : "f32", outShape);
  if (outer * inner === 0) return out;
  const uniforms = packUniforms([
    ["u32", outer],
    ["u32", len],
    ["u32", inner],
    ["f32", kind === "max" ? -Infinity : 0],
  ]);
  if (inner === 1) {
    ctx.dispatch(
      ctx.pipeline(`${kind}.row`, () => rowShader(kind)),
      [x, out],
      uniforms,
      gridRows(ctx, outer),
    );
  } else {
    const pipeline = ctx.pipeline(`${kind}.strided`, () => stridedShader(kind));
    ctx.dispatch(pipeline, [x, out], uniforms, grid1d(ctx, outer * inner));
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
