import type { Tensor } from "../../tensor.ts";
import type { GpuContext } from "./context.ts";
import { gridRows, packUniforms } from "./kernel-util.ts";
import { onDevice, ROW_THREADS, rowChunks, WGSL_FLAT_GROUP, WGSL_IS_ACTIVE } from "./sparse-common.ts";

/*
 * out[r] += alpha · Σ_c relu(values[r, c]) · table[indices[r, c]], c in increasing order (as backends/js/sparse.ts).
 * One workgroup per row r; its threads stride over d, each keeping its output element in a register while it walks
 * the row's k pairs, so table rows are read coalesced and out is read and written once. Pairs whose index lies
 * outside [0, V) are skipped (ops-sparse.ts checks host indices only; on the device they must not read another row).
 * A table larger than one storage binding is bound in chunks of latents, one dispatch each (the sum then runs
 * chunk by chunk rather than in c order: equal up to f32 rounding).
 */

const wgsl = (): string => /* wgsl */ `
struct Params { rows: u32, d: u32, kk: u32, jBase: u32, vChunk: u32, alpha: f32 }
@group(0) @binding(0) var<storage, read_write> outRows: array<f32>;   // [rows, d]
@group(0) @binding(1) var<storage, read> indices: array<i32>;         // [rows, kk]
@group(0) @binding(2) var<storage, read> values: array<f32>;          // [rows, kk]
@group(0) @binding(3) var<storage, read> table: array<f32>;           // rows [jBase, jBase + vChunk) of [V, d]
@group(0) @binding(4) var<uniform> p: Params;
${WGSL_FLAT_GROUP}
${WGSL_IS_ACTIVE}
@compute @workgroup_size(${ROW_THREADS})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let r = flatGroup(wid, nwg);
  if (r >= p.rows) { return; }
  let o = r * p.d;
  let pairs = r * p.kk;
  for (var i = lid; i < p.d; i += ${ROW_THREADS}u) {
    var acc = outRows[o + i];
    for (var c = 0u; c < p.kk; c++) {
      let a = values[pairs + c];
      let j = u32(indices[pairs + c]) - p.jBase; // wraps above vChunk for latents below the chunk
      if (!isActive(a) || j >= p.vChunk) { continue; }
      acc += (p.alpha * a) * table[j * p.d + i];
    }
    outRows[o + i] = acc;
  }
}
`;

/** Backend.sparseDecode on the GPU (shapes checked by ops.ts). out [rows, d], indices/values [rows, kk], table [V, d]. */
export function sparseDecode(
  ctx: GpuContext,
  out: Tensor,
  indices: Tensor,
  values: Tensor,
  table: Tensor,
  alpha: number,
): Tensor {
  onDevice(ctx, "sparseDecode", { out, indices, values, table });
  const rows = out.shape[0]!,
    d = out.shape[1]!;
  const kk = rows === 0 ? 0 : indices.size / rows;
  if (rows === 0 || d === 0 || kk === 0 || table.shape[0] === 0) return out;
  const pipeline = ctx.pipeline("sae.sparseDecode", wgsl);
  for (const chunk of rowChunks(ctx, table.shape[0]!, 4 * d, [table])) {
    const u = packUniforms([
      ["u32", rows],
      ["u32", d],
      ["u32", kk],
      ["u32", chunk.rowStart],
      ["u32", chunk.rowCount],
      ["f32", alpha],
    ]);
    ctx.dispatch(pipeline, [out, indices, values, ...chunk.bindings], u, gridRows(ctx, rows));
  }
  return out;
}
