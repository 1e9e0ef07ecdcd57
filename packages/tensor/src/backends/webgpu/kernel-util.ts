import { DTYPE_BYTES, type DType } from "../../dtype.ts";
import { TensorError } from "../../errors.ts";
import type { Tensor } from "../../tensor.ts";
import type { BufferSlice, GpuContext } from "./context.ts";

/*
 * What the WGSL kernel files share: the 1-D grid over many workgroups, uniform packing, float loaders that widen
 * packed f16 / bf16 in the shader, and the `out` that may alias an input.
 */

/** Invocations per workgroup of the elementwise kernels (a multiple of every GPU's SIMD width). */
export const WG = 256;

/**
 * Invocations per row of the row kernels (one workgroup per row, then a tree over the lanes): attention rows are
 * often short (tens of keys), where 256 lanes would idle and add tree levels — softmax over [896, 64] took 76 ms
 * with 256 lanes and 9 ms with 64 on lavapipe; long rows stay coalesced, each lane striding by 64.
 */
export const ROW_WG = 64;

/**
 * The header of a 1-D kernel: `i` is the flat invocation index over a grid that `grid1d` may fold into 2-D (more
 * than maxComputeWorkgroupsPerDimension workgroups). Invocations past `limit` return.
 */
export function main1d(limit: string, wg = WG): string {
  return `@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * ${wg}u + lid;
  if (i >= ${limit}) { return; }`;
}

/** Workgroups covering `invocations` with `wg` per workgroup, as [x, y] within the device's per-dimension limit. */
export function grid1d(ctx: GpuContext, invocations: number, wg = WG): [number, number] {
  const groups = Math.ceil(invocations / wg);
  const max = ctx.limits.maxComputeWorkgroupsPerDimension;
  if (groups <= max) return [groups, 1];
  const y = Math.ceil(groups / max);
  return [Math.ceil(groups / y), y];
}

/** One workgroup per row for `rows` rows, folded into [x, y]; WGSL recovers the row as `wid.y * nwg.x + wid.x`. */
export function gridRows(ctx: GpuContext, rows: number): [number, number] {
  return grid1d(ctx, rows, 1);
}

export type UniformField = readonly ["u32" | "i32" | "f32", number];

/** Packs 4-byte scalars in order (the WGSL struct declares the same fields in the same order). */
export function packUniforms(fields: readonly UniformField[]): ArrayBuffer {
  const buffer = new ArrayBuffer(Math.max(16, Math.ceil((fields.length * 4) / 16) * 16));
  const view = new DataView(buffer);
  fields.forEach(([kind, value], i) => {
    if (kind === "u32") view.setUint32(i * 4, value, true);
    else if (kind === "i32") view.setInt32(i * 4, value, true);
    else view.setFloat32(i * 4, value, true);
  });
  return buffer;
}

/** WGSL of a 16-bit float pattern (low 16 bits of h) widened exactly to f32. */
export const F16_TO_F32 = `fn f16_to_f32(h: u32) -> f32 {
  let sign = (h & 0x8000u) << 16u;
  let e = (h >> 10u) & 0x1fu;
  let m = h & 0x3ffu;
  if (e == 0u) { let mag = f32(m) * 5.9604644775390625e-8; return select(mag, -mag, sign != 0u); }
  if (e == 31u) { return bitcast<f32>(sign | 0x7f800000u | (m << 13u)); }
  return bitcast<f32>(sign | ((e + 112u) << 23u) | (m << 13u));
}`;

/** The dtype codes `anyFloatInput` decodes (a uniform field): one pipeline serves every float dtype. */
export const FLOAT_CODE: Readonly<Record<string, number>> = { f32: 0, bf16: 1, f16: 2 };

/**
 * WGSL declaring storage binding `binding` as `name` (raw words) and `fn name_at(i, dtype) -> f32` reading element i
 * of an f32 / bf16 / f16 tensor (dtype: FLOAT_CODE, from a uniform) widened to f32. The module needs F16_TO_F32.
 * Memory-bound kernels take their dtype as a uniform rather than one pipeline per dtype: a pipeline costs up to a
 * second of compilation on lavapipe and first-use latency on real GPUs, and a branch on a uniform costs nothing.
 */
export function anyFloatInput(binding: number, name: string): string {
  return `@group(0) @binding(${binding}) var<storage, read> ${name}: array<u32>;
fn ${name}_at(i: u32, dtype: u32) -> f32 {
  if (dtype == 0u) { return bitcast<f32>(${name}[i]); }
  let w = ${name}[i >> 1u];
  let odd = (i & 1u) == 1u;
  if (dtype == 1u) { return bitcast<f32>(select(w << 16u, w & 0xffff0000u, odd)); }
  return f16_to_f32(select(w, w >> 16u, odd));
}`;
}

/**
 * WGSL declaring storage binding `binding` as `name` of one float dtype and `fn name_at(i) -> f32` (a pipeline per
 * dtype, for compute-bound kernels that want the specialisation). f16 needs F16_TO_F32 in the module.
 */
export function floatInput(binding: number, name: string, dtype: DType): string {
  if (dtype === "f32")
    return `@group(0) @binding(${binding}) var<storage, read> ${name}: array<f32>;
fn ${name}_at(i: u32) -> f32 { return ${name}[i]; }`;
  const widen =
    dtype === "bf16" ? "bitcast<f32>(select(w << 16u, w & 0xffff0000u, odd))" : "f16_to_f32(select(w, w >> 16u, odd))";
  return `@group(0) @binding(${binding}) var<storage, read> ${name}: array<u32>;
fn ${name}_at(i: u32) -> f32 { let w = ${name}[i >> 1u]; let odd = (i & 1u) == 1u; return ${widen}; }`;
}

/** Whether two tensors share device storage (views of one buffer). */
export function sameStorage(a: Tensor, b: Tensor): boolean {
  return a.storage !== undefined && a.storage === b.storage;
}

/**
 * Runs a kernel writing a new f32 tensor of `shape`, or into `out`. WebGPU refuses one buffer bound both writable
 * and readable in one dispatch, so when `out` shares storage with an input the kernel writes a temporary that is
 * then copied into `out` (ordered in the command stream).
 */
export function writeTo(
  ctx: GpuContext,
  out: Tensor | undefined,
  shape: readonly number[],
  inputs: readonly Tensor[],
  run: (target: Tensor) => void,
): Tensor {
  if (!out) {
    const target = ctx.alloc("f32", shape);
    run(target);
    return target;
  }
  if (!inputs.some((t) => sameStorage(t, out))) {
    run(out);
    return out;
  }
  const temp = ctx.alloc(out.dtype, out.shape);
  run(temp);
  ctx.copyBytes(temp, 0, out, 0, out.size * DTYPE_BYTES[out.dtype]);
  ctx.release(temp);
  return out;
}

/** A row range of a [rows, ...] tensor and what to bind for it (the whole tensor when it fits one binding). */
export interface RowSlice {
  rowStart: number;
  rowCount: number;
  binding: Tensor | BufferSlice;
}

/**
 * Splits tensor `t` of `rows` rows (each `rowBytes` bytes on the device) into row ranges that each fit one storage
 * binding (ctx.maxBindingBytes), starting at offsets the device accepts (minStorageBufferOffsetAlignment).
 * One range binding the whole tensor when it fits.
 */
export function rowSlices(ctx: GpuContext, t: Tensor, rows: number, rowBytes: number): RowSlice[] {
  return jointRowSlices(ctx, rows, [{ tensor: t, rowBytes }]).map(({ rowStart, rowCount, bindings }) => ({
    rowStart,
    rowCount,
    binding: bindings[0]!,
  }));
}

/** A row range shared by several tensors with the same number of rows, with each tensor's binding for it. */
export interface JointRowSlice {
  rowStart: number;
  rowCount: number;
  bindings: (Tensor | BufferSlice)[];
}

/**
 * Row ranges for tensors that share their row count (x [rows, d] and its output [rows, d] or [rows]) such that
 * every tensor's part fits one binding and starts aligned: an activation larger than one binding (logits of a
 * long batch) runs as several dispatches over row ranges. One range binding the whole tensors when all fit.
 */
export function jointRowSlices(
  ctx: GpuContext,
  rows: number,
  parts: readonly { tensor: Tensor; rowBytes: number }[],
): JointRowSlice[] {
  const bytes = (p: { rowBytes: number }, n: number): number => Math.ceil((n * p.rowBytes) / 4) * 4;
  if (rows === 0 || parts.every((p) => bytes(p, rows) <= ctx.maxBindingBytes))
    return [{ rowStart: 0, rowCount: rows, bindings: parts.map((p) => p.tensor) }];
  const align = ctx.limits.minStorageBufferOffsetAlignment;
  // Rows per aligned offset: the least common multiple over the parts.
  const step = parts.reduce((m, p) => lcm(m, p.rowBytes === 0 ? 1 : align / gcd(p.rowBytes, align)), 1);
  const fit = Math.min(...parts.map((p) => Math.floor((ctx.maxBindingBytes - 4) / Math.max(1, p.rowBytes))));
  const perSlice = Math.floor(fit / step) * step;
  if (perSlice < 1) {
    const shapes = parts.map((p) => `${p.tensor.dtype} [${p.tensor.shape.join(", ")}]`).join(", ");
    throw new TensorError(
      "DEVICE_LIMIT",
      `webgpu: a row range of ${shapes} (${step} rows per offset aligned to ${align} bytes) does not fit one storage binding of ${ctx.maxBindingBytes} bytes`,
    );
  }
  const slices: JointRowSlice[] = [];
  for (let rowStart = 0; rowStart < rows; rowStart += perSlice) {
    const rowCount = Math.min(perSlice, rows - rowStart);
    const bindings = parts.map((p) => {
      const offset = rowStart * p.rowBytes;
      const size = Math.min(bytes(p, rowCount), bytes(p, rows) - offset);
      return { tensor: p.tensor, offset, size: Math.max(4, size) };
    });
    slices.push({ rowStart, rowCount, bindings });
  }
  return slices;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function lcm(a: number, b: number): number {
  return (a / gcd(a, b)) * b;
}
