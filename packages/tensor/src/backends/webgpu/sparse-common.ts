import { TensorError } from "../../errors.ts";
import type { Tensor } from "../../tensor.ts";
import type { BufferSlice, GpuContext } from "./context.ts";

/*
 * What the SAE kernels (sparse-*.ts, optim.ts) share: workgroup grids split over two dimensions, row chunks for
 * tensors larger than one storage binding, uniform packing, the device check that names each argument, and WGSL
 * snippets (flat workgroup index, relu-activity test,
 * workgroup sum).
 */

/** Threads per workgroup of the row kernels (one workgroup per row / pair / latent, threads over d). */
export const ROW_THREADS = 64;
/** Threads per workgroup of the elementwise kernels (one thread per element / pair). */
export const FLAT_THREADS = 256;

/**
 * `count` workgroups as [x, y] with x ≤ maxComputeWorkgroupsPerDimension; kernels recover the flat index with
 * WGSL_FLAT_GROUP and skip indices ≥ count (the last row of the grid may overhang).
 */
export function grid(ctx: GpuContext, op: string, count: number): [number, number] {
  const max = ctx.limits.maxComputeWorkgroupsPerDimension;
  const x = Math.max(1, Math.min(count, max));
  const y = Math.ceil(count / x);
  if (y > max)
    throw new TensorError(
      "DEVICE_LIMIT",
      `${op}: ${count} workgroups exceed the adapter's ${max} × ${max} (maxComputeWorkgroupsPerDimension)`,
    );
  return [x, Math.max(1, y)];
}

/** Rows [start, start + count) of the tensors one dispatch binds. */
export interface RowChunk {
  readonly start: number;
  readonly count: number;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * Splits `rows` rows of `rowBytes` bytes each into chunks that fit one storage binding (ctx.maxBindingBytes) and
 * start at offsets aligned to minStorageBufferOffsetAlignment; one chunk of every row when the whole tensor fits
 * (then kernels bind the tensors themselves). A DEVICE_LIMIT error with the numbers when no aligned chunk fits.
 */
export function rowChunks(ctx: GpuContext, op: string, arg: string, rows: number, rowBytes: number): RowChunk[] {
  if (rows * rowBytes <= ctx.maxBindingBytes) return [{ start: 0, count: rows }];
  const align = ctx.limits.minStorageBufferOffsetAlignment;
  const step = align / gcd(rowBytes, align); // rows per aligned offset
  const per = Math.floor(ctx.maxBindingBytes / rowBytes / step) * step;
  if (per === 0)
    throw new TensorError(
      "DEVICE_LIMIT",
      `${op}(${arg}): ${rows} rows of ${rowBytes} bytes do not split into bindings of at most ${ctx.maxBindingBytes} bytes (maxStorageBufferBindingSize) starting at multiples of ${align} bytes (minStorageBufferOffsetAlignment)`,
    );
  const chunks: RowChunk[] = [];
  for (let start = 0; start < rows; start += per) chunks.push({ start, count: Math.min(per, rows - start) });
  return chunks;
}

/** The binding of a chunk's rows of t (f32 / i32, rows of `rowBytes` bytes): t itself when the chunk is all of t. */
export function chunkOf(t: Tensor, chunk: RowChunk, rowBytes: number): Tensor | BufferSlice {
  if (chunk.start === 0 && chunk.count * rowBytes >= t.size * 4) return t;
  return { tensor: t, offset: chunk.start * rowBytes, size: chunk.count * rowBytes };
}

/** A uniform block of u32 fields followed by f32 fields (the WGSL struct declares them in that order), 16-byte padded. */
export function params(u32: readonly number[], f32: readonly number[] = []): ArrayBuffer {
  const n = u32.length + f32.length;
  const buf = new ArrayBuffer(Math.max(16, Math.ceil((4 * n) / 16) * 16));
  const view = new DataView(buf);
  for (const [i, v] of u32.entries()) view.setUint32(4 * i, v, true);
  for (const [i, v] of f32.entries()) view.setFloat32(4 * (u32.length + i), v, true);
  return buf;
}

/** Checks every named argument lives on this context's device (a DeviceError naming op and argument otherwise). */
export function onDevice(ctx: GpuContext, op: string, args: Record<string, Tensor>): void {
  for (const [name, t] of Object.entries(args)) ctx.buffer(t, op, name);
}

/** `fn flatGroup(wid, nwg) -> u32`: the workgroup's index in a grid made by `grid`. */
export const WGSL_FLAT_GROUP = /* wgsl */ `
fn flatGroup(wid: vec3u, nwg: vec3u) -> u32 { return wid.x + wid.y * nwg.x; }
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
