import type { Tensor } from "../../tensor.ts";
import type { BufferSlice, GpuContext } from "./context.ts";
import { rowSlices } from "./kernel-util.ts";

/*
 * What the SAE kernels (sparse-*.ts, optim.ts) share beyond kernel-util.ts: the device check that names each
 * argument, the same row chunks of several tensors larger than one storage binding, and WGSL snippets (flat
 * workgroup index, relu-activity test, workgroup sum).
 */

/** Threads per workgroup of the row kernels (one workgroup per row / pair / latent, threads over d). */
export const ROW_THREADS = 64;

/** Checks every named argument lives on this context's device (a DeviceError naming op and argument otherwise). */
export function onDevice(ctx: GpuContext, op: string, args: Record<string, Tensor>): void {
  for (const [name, t] of Object.entries(args)) ctx.buffer(t, op, name);
}

/** Rows [rowStart, rowStart + rowCount) and what to bind for each tensor of the chunk. */
export interface RowChunk {
  readonly rowStart: number;
  readonly rowCount: number;
  readonly bindings: readonly (Tensor | BufferSlice)[];
}

/**
 * The same row ranges of tensors that all have `rows` rows of `rowBytes` bytes (kernel-util's rowSlices, zipped):
 * one chunk binding the whole tensors when they fit one storage binding, else aligned slices, one dispatch each.
 */
export function rowChunks(ctx: GpuContext, rows: number, rowBytes: number, tensors: readonly Tensor[]): RowChunk[] {
  const slices = tensors.map((t) => rowSlices(ctx, t, rows, rowBytes));
  return slices[0]!.map(({ rowStart, rowCount }, i) => ({
    rowStart,
    rowCount,
    bindings: slices.map((s) => s[i]!.binding),
  }));
}

/** `fn flatGroup(wid, nwg) -> u32`: the workgroup's index in a grid folded by kernel-util's gridRows / grid1d. */
export const WGSL_FLAT_GROUP = /* wgsl */ `
fn flatGroup(wid: vec3u, nwg: vec3u) -> u32 { return wid.y * nwg.x + wid.x; }
`;

/**
 * `fn isActive(a: f32) -> bool`: a > 0, tested on the bits so NaN is inactive whatever the shader compiler assumes
 * about NaN (WGSL lets it assume there are none): +0 < bits ≤ +Infinity.
 */
export const WGSL_IS_ACTIVE = /* wgsl */ `
fn isActive(a: f32) -> bool { let b = bitcast<u32>(a); return b != 0u && b <= 0x7f800000u; }
`;

/**
 * Declares `var<workgroup> sumScratch: array<f32, ROW_THREADS>` and `fn workgroupSum(v, lid) -> f32`: the sum of
 * every thread's `v` (a fixed tree, so deterministic), returned to all threads. Call from uniform control flow.
 */
export const WGSL_WORKGROUP_SUM = /* wgsl */ `
var<workgroup> sumScratch: array<f32, ${ROW_THREADS}>;
fn workgroupSum(v: f32, lid: u32) -> f32 {
  sumScratch[lid] = v;
  workgroupBarrier();
  for (var half = ${ROW_THREADS / 2}u; half > 0u; half >>= 1u) {
    if (lid < half) { sumScratch[lid] += sumScratch[lid + half]; }
    workgroupBarrier();
  }
  let total = sumScratch[0];
  workgroupBarrier();
  return total;
}
`;
