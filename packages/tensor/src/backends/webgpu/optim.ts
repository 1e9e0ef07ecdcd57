import type { AdamStep } from "../../backend.ts";
import type { Tensor } from "../../tensor.ts";
import type { GpuContext } from "./context.ts";
import { grid1d, gridRows, packUniforms, WG } from "./kernel-util.ts";
import { onDevice, ROW_THREADS, rowChunks, WGSL_FLAT_GROUP, WGSL_WORKGROUP_SUM } from "./sparse-common.ts";

/*
 * The optimizer kernels of TopK SAE training on the GPU, semantics of backends/js/optim.ts computed in f32 (js
 * computes in float64 and stores f32: parameters agree to ~1e-7 relative per step).
 * `rowMask` is ignored, as backend.ts documents for device backends: a row outside the mask has a zero gradient,
 * so Adam's update with g read from it is the js update with g = 0, and projecting a zero row changes nothing.
 * Tensors larger than one storage binding are processed in aligned chunks of rows, one dispatch each.
 */

const adamWgsl = (): string => /* wgsl */ `
struct Params { n: u32, clearGrad: u32, stepSize: f32, bc2Sqrt: f32, beta1: f32, beta2: f32, c1: f32, c2: f32, eps: f32 }
@group(0) @binding(0) var<storage, read_write> param: array<f32>;
@group(0) @binding(1) var<storage, read_write> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;
${WGSL_FLAT_GROUP}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = flatGroup(wid, nwg) * ${WG}u + lid;
  if (i >= p.n) { return; }
  let g = grad[i];
  let mi = p.beta1 * m[i] + p.c1 * g;
  let vi = p.beta2 * v[i] + p.c2 * g * g;
  m[i] = mi;
  v[i] = vi;
  param[i] = param[i] - p.stepSize * (mi / (sqrt(vi) / p.bc2Sqrt + p.eps));
  if (p.clearGrad != 0u) { grad[i] = 0.0; }
}
`;

/** Backend.adamUpdate on the GPU: one thread per element; step.rowMask ignored (see above). */
export function adamUpdate(ctx: GpuContext, param: Tensor, grad: Tensor, m: Tensor, v: Tensor, step: AdamStep): void {
  onDevice(ctx, "adamUpdate", { param, grad, m, v });
  const n = param.size;
  if (n === 0) return;
  const { stepSize, bc2Sqrt, beta1, beta2, eps } = step;
  const pipeline = ctx.pipeline("sae.adamUpdate", adamWgsl);
  const floats = [stepSize, bc2Sqrt, beta1, beta2, 1 - beta1, 1 - beta2, eps].map((x) => ["f32", x] as const);
  // Elements as rows of 4 bytes: a parameter larger than one binding is updated in aligned pieces.
  for (const c of rowChunks(ctx, n, 4, [param, grad, m, v])) {
    const u = packUniforms([["u32", c.rowCount], ["u32", step.clearGrad ? 1 : 0], ...floats]);
    ctx.dispatch(pipeline, c.bindings, u, grid1d(ctx, c.rowCount));
  }
}

/**
 * One workgroup per row of [rows, d] tensors bound at bindings 0..n−1 (the uniforms follow them): `body` runs
 * after `let o = r * p.d;` with `lid` the thread.
 */
const rowKernel = (bindings: readonly string[], body: string): string => /* wgsl */ `
struct Params { rows: u32, d: u32, eps: f32 }
${bindings.map((b, i) => `@group(0) @binding(${i}) ${b}`).join("\n")}
@group(0) @binding(${bindings.length}) var<uniform> p: Params;
${WGSL_FLAT_GROUP}
${WGSL_WORKGROUP_SUM}
@compute @workgroup_size(${ROW_THREADS})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let r = flatGroup(wid, nwg);
  if (r >= p.rows) { return; }
  let o = r * p.d;
  ${body}
}
`;

const rowParams = (rows: number, d: number, eps: number): ArrayBuffer =>
  packUniforms([
    ["u32", rows],
    ["u32", d],
    ["f32", eps],
  ]);

const projectOutWgsl = (): string =>
  rowKernel(
    ["var<storage, read_write> grad: array<f32>;", "var<storage, read> w: array<f32>;"],
    `var part = 0.0;
  for (var i = lid; i < p.d; i += ${ROW_THREADS}u) { part += grad[o + i] * w[o + i]; }
  let dot = workgroupSum(part, lid);
  for (var i = lid; i < p.d; i += ${ROW_THREADS}u) { grad[o + i] -= dot * w[o + i]; }`,
  );

const normalizeWgsl = (): string =>
  rowKernel(
    ["var<storage, read_write> w: array<f32>;"],
    `var part = 0.0;
  for (var i = lid; i < p.d; i += ${ROW_THREADS}u) { part += w[o + i] * w[o + i]; }
  let inv = 1.0 / (sqrt(workgroupSum(part, lid)) + p.eps);
  for (var i = lid; i < p.d; i += ${ROW_THREADS}u) { w[o + i] *= inv; }`,
  );

/** Backend.projectOutRows on the GPU: grad[r] −= (grad[r]·w[r])·w[r], one workgroup per row; rowMask ignored (see above). */
export function projectOutRows(ctx: GpuContext, grad: Tensor, w: Tensor, _rowMask?: Uint8Array): void {
  onDevice(ctx, "projectOutRows", { grad, w });
  const d = w.shape[w.rank - 1]!,
    rows = d === 0 ? 0 : w.size / d;
  if (rows === 0) return;
  const pipeline = ctx.pipeline("sae.projectOutRows", projectOutWgsl);
  for (const c of rowChunks(ctx, rows, 4 * d, [grad, w]))
    ctx.dispatch(pipeline, c.bindings, rowParams(c.rowCount, d, 0), gridRows(ctx, c.rowCount));
}

/** Backend.normalizeRows on the GPU: w[r] ← w[r] / (‖w[r]‖ + eps), one workgroup per row. */
export function normalizeRows(ctx: GpuContext, w: Tensor, eps: number): void {
  onDevice(ctx, "normalizeRows", { w });
  const d = w.shape[w.rank - 1]!,
    rows = d === 0 ? 0 : w.size / d;
  if (rows === 0) return;
  const pipeline = ctx.pipeline("sae.normalizeRows", normalizeWgsl);
  for (const c of rowChunks(ctx, rows, 4 * d, [w]))
    ctx.dispatch(pipeline, c.bindings, rowParams(c.rowCount, d, eps), gridRows(ctx, c.rowCount));
}
