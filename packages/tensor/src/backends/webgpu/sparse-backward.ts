import type { SparseCodesGrads } from "../../backend.ts";
import type { Tensor } from "../../tensor.ts";
import type { GpuContext } from "./context.ts";
import { grid1d, gridRows, packUniforms, WG } from "./kernel-util.ts";
import {
  onDevice,
  ROW_THREADS,
  rowChunks,
  WGSL_FLAT_GROUP,
  WGSL_IS_ACTIVE,
  WGSL_WORKGROUP_SUM,
} from "./sparse-common.ts";
import { WGSL_SORT_SEGMENT } from "./sparse-sort.ts";

/*
 * Backend.sparseCodesBackward without float atomics, deterministic (same inputs → same bits). For every active pair
 * p = (r, c) — value a > 0, latent j = indices[r, c] — the js backend does, in increasing p:
 *   dz = g[r]·table[j];  tableGrad[j] += a·g[r];  encoderGrad[j] += dz·x[r];  biasGrad[j] += dz.
 * Here, five dispatches:
 *   1. dz     one workgroup per pair: dz[p] (tree sum over d); counts[j] += 1 (atomic u32: exact in any order).
 *   2. scan   one workgroup: offsets = exclusive prefix sum of counts; counts back to 0 (the cursors of step 3).
 *   3. fill   one thread per pair: order[offsets[j] + atomicAdd(cursor[j])] = p — every latent's pairs land in its
 *             segment, in an order that depends on scheduling...
 *   4. sort   ...so one workgroup per latent sorts its segment ascending (bitonic network in place: each segment
 *             holds distinct p, so the result is unique), zeroes counts[j] again, and sums biasGrad[j] += dz in p order.
 *   5. accumulate  one workgroup per latent, threads over d: tableGrad[j] / encoderGrad[j] += over its pairs in p
 *             order — the js order, so results differ from js only by dz's summation order and f32 vs f64 products.
 * A table (and its gradients) larger than one storage binding is bound in chunks of latents: steps 1 and 5 run once
 * per chunk, each on its own latents' pairs (same results: every pair and latent is handled by exactly one chunk).
 * Scratch (dz, order, offsets, counts) is kept per context and grows with the largest call; counts is all zero
 * between calls (any limit a call can hit — workgroups per pair, g's binding — it hits at its first dispatch, before
 * counts changes). Pairs whose index lies outside [0, V) are inactive here (ops-sparse.ts checks host indices only).
 */

/** jBase / vChunk: the latents whose rows of table, tableGrad and encoderGrad this dispatch binds (dz, accumulate). */
const PARAMS = "struct Params { pairs: u32, d: u32, kk: u32, v: u32, jBase: u32, vChunk: u32 }";

const dzWgsl = (): string => /* wgsl */ `
${PARAMS}
@group(0) @binding(0) var<storage, read> values: array<f32>;          // [pairs]
@group(0) @binding(1) var<storage, read> indices: array<i32>;         // [pairs]
@group(0) @binding(2) var<storage, read> g: array<f32>;               // [rows, d]
@group(0) @binding(3) var<storage, read> table: array<f32>;           // rows [jBase, jBase + vChunk) of [V, d]
@group(0) @binding(4) var<storage, read_write> dz: array<f32>;        // [pairs]
@group(0) @binding(5) var<storage, read_write> counts: array<atomic<u32>>; // [V]
@group(0) @binding(6) var<uniform> p: Params;
${WGSL_FLAT_GROUP}
${WGSL_IS_ACTIVE}
${WGSL_WORKGROUP_SUM}
@compute @workgroup_size(${ROW_THREADS})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let pr = flatGroup(wid, nwg);
  if (pr >= p.pairs) { return; }
  let j = u32(indices[pr]);
  let live = isActive(values[pr]) && j < p.v && j - p.jBase < p.vChunk; // (u32: wraps below the chunk)
  var part = 0.0;
  if (live) {
    let go = (pr / p.kk) * p.d;
    let to = (j - p.jBase) * p.d;
    for (var i = lid; i < p.d; i += ${ROW_THREADS}u) { part += g[go + i] * table[to + i]; }
  }
  let total = workgroupSum(part, lid);
  if (lid == 0u && live) {
    dz[pr] = total;
    atomicAdd(&counts[j], 1u);
  }
}
`;

const SCAN_THREADS = 256;
const scanWgsl = (): string => /* wgsl */ `
${PARAMS}
@group(0) @binding(0) var<storage, read_write> counts: array<atomic<u32>>; // [V]
@group(0) @binding(1) var<storage, read_write> offsets: array<u32>;        // [V + 1]
@group(0) @binding(2) var<uniform> p: Params;
var<workgroup> chunkBase: array<u32, ${SCAN_THREADS}>;
@compute @workgroup_size(${SCAN_THREADS})
fn main(@builtin(local_invocation_index) lid: u32) {
  // Each thread owns a contiguous chunk of latents: sums it, the chunk sums are scanned, then each chunk is written.
  let chunk = (p.v + ${SCAN_THREADS - 1}u) / ${SCAN_THREADS}u;
  let start = min(lid * chunk, p.v);
  let end = min(start + chunk, p.v);
  var sum = 0u;
  for (var i = start; i < end; i++) { sum += atomicLoad(&counts[i]); }
  chunkBase[lid] = sum;
  workgroupBarrier();
  if (lid == 0u) {
    var run = 0u;
    for (var t = 0u; t < ${SCAN_THREADS}u; t++) { let c = chunkBase[t]; chunkBase[t] = run; run += c; }
    offsets[p.v] = run;
  }
  workgroupBarrier();
  var run = chunkBase[lid];
  for (var i = start; i < end; i++) {
    offsets[i] = run;
    run += atomicLoad(&counts[i]);
    atomicStore(&counts[i], 0u);
  }
}
`;

const fillWgsl = (): string => /* wgsl */ `
${PARAMS}
@group(0) @binding(0) var<storage, read> values: array<f32>;          // [pairs]
@group(0) @binding(1) var<storage, read> indices: array<i32>;         // [pairs]
@group(0) @binding(2) var<storage, read> offsets: array<u32>;         // [V + 1]
@group(0) @binding(3) var<storage, read_write> counts: array<atomic<u32>>; // [V], the cursors
@group(0) @binding(4) var<storage, read_write> order: array<u32>;     // [pairs]
@group(0) @binding(5) var<uniform> p: Params;
${WGSL_FLAT_GROUP}
${WGSL_IS_ACTIVE}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let pr = flatGroup(wid, nwg) * ${WG}u + lid;
  if (pr >= p.pairs) { return; }
  let j = u32(indices[pr]);
  if (!(isActive(values[pr]) && j < p.v)) { return; }
  order[offsets[j] + atomicAdd(&counts[j], 1u)] = pr;
}
`;

const sortWgsl = (): string => /* wgsl */ `
${PARAMS}
@group(0) @binding(0) var<storage, read> offsets: array<u32>;         // [V + 1]
@group(0) @binding(1) var<storage, read_write> counts: array<atomic<u32>>; // [V]
@group(0) @binding(2) var<storage, read_write> order: array<u32>;     // [pairs]
@group(0) @binding(3) var<storage, read> dz: array<f32>;              // [pairs]
@group(0) @binding(4) var<storage, read_write> biasGrad: array<f32>;  // [V]
@group(0) @binding(5) var<uniform> p: Params;
var<workgroup> segStart: u32;
var<workgroup> segLen: u32;
${WGSL_FLAT_GROUP}
${WGSL_SORT_SEGMENT}
@compute @workgroup_size(${ROW_THREADS})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let j = flatGroup(wid, nwg);
  if (j >= p.v) { return; }
  if (lid == 0u) {
    segStart = offsets[j];
    segLen = offsets[j + 1u] - offsets[j];
    atomicStore(&counts[j], 0u);
  }
  let s = workgroupUniformLoad(&segStart);
  let n = workgroupUniformLoad(&segLen);
  if (n == 0u) { return; }
  sortSegment(s, n, lid);
  if (lid == 0u) {
    var b = biasGrad[j];
    for (var q = 0u; q < n; q++) { b += dz[order[s + q]]; }
    biasGrad[j] = b;
  }
}
`;

const accumulateWgsl = (): string => /* wgsl */ `
${PARAMS}
@group(0) @binding(0) var<storage, read> offsets: array<u32>;         // [V + 1]
@group(0) @binding(1) var<storage, read> order: array<u32>;           // [pairs], sorted within each latent
@group(0) @binding(2) var<storage, read> values: array<f32>;          // [pairs]
@group(0) @binding(3) var<storage, read> dz: array<f32>;              // [pairs]
@group(0) @binding(4) var<storage, read> g: array<f32>;               // [rows, d]
@group(0) @binding(5) var<storage, read> x: array<f32>;               // [rows, d]
@group(0) @binding(6) var<storage, read_write> tableGrad: array<f32>; // rows [jBase, jBase + vChunk) of [V, d]
@group(0) @binding(7) var<storage, read_write> encoderGrad: array<f32>; // the same rows of [V, d]
@group(0) @binding(8) var<uniform> p: Params;
${WGSL_FLAT_GROUP}
@compute @workgroup_size(${ROW_THREADS})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let local = flatGroup(wid, nwg);
  if (local >= p.vChunk) { return; }
  let j = p.jBase + local;
  let s = offsets[j];
  let n = offsets[j + 1u] - s;
  if (n == 0u) { return; }
  let to = local * p.d;
  for (var i = lid; i < p.d; i += ${ROW_THREADS}u) {
    var accT = tableGrad[to + i];
    var accE = encoderGrad[to + i];
    for (var q = 0u; q < n; q++) {
      let pr = order[s + q];
      let ro = (pr / p.kk) * p.d;
      accT += values[pr] * g[ro + i];
      accE += dz[pr] * x[ro + i];
    }
    tableGrad[to + i] = accT;
    encoderGrad[to + i] = accE;
  }
}
`;

interface Scratch {
  dz: Tensor; // f32 [≥ pairs]
  order: Tensor; // u32 [≥ pairs]
  offsets: Tensor; // u32 [≥ V + 1]
  counts: Tensor; // u32 [≥ V], zero between calls
}
const scratchByContext = new WeakMap<GpuContext, Scratch>();

function scratch(ctx: GpuContext, pairs: number, v: number): Scratch {
  const old = scratchByContext.get(ctx);
  // An outgrown buffer is released at once: the pool hands it out again only to commands recorded after these.
  const fit = (t: Tensor | undefined, size: number, make: () => Tensor): Tensor => {
    if (t && t.size >= size) return t;
    if (t) ctx.release(t);
    return make();
  };
  const s: Scratch = {
    dz: fit(old?.dz, pairs, () => ctx.alloc("f32", [pairs])),
    order: fit(old?.order, pairs, () => ctx.alloc("i32", [pairs])),
    offsets: fit(old?.offsets, v + 1, () => ctx.alloc("i32", [v + 1])),
    counts: fit(old?.counts, v, () => ctx.alloc("i32", [v], true)),
  };
  scratchByContext.set(ctx, s);
  return s;
}

/** Backend.sparseCodesBackward on the GPU (shapes checked by ops.ts). Accumulates into grads; `touched` untouched. */
export function sparseCodesBackward(
  ctx: GpuContext,
  indices: Tensor,
  values: Tensor,
  g: Tensor,
  x: Tensor,
  table: Tensor,
  grads: SparseCodesGrads,
): void {
  const { table: tableGrad, encoder: encoderGrad, bias: biasGrad } = grads;
  onDevice(ctx, "sparseCodesBackward", { indices, values, g, x, table, tableGrad, encoderGrad, biasGrad });
  const rows = g.shape[0]!,
    d = g.shape[1]!,
    v = table.shape[0]!;
  const kk = rows === 0 ? 0 : indices.size / rows;
  const pairs = rows * kk;
  if (pairs === 0 || v === 0 || d === 0) return;
  const s = scratch(ctx, pairs, v);
  const rowBytes = 4 * d;
  const tableChunks = rowChunks(ctx, v, rowBytes, [table]);
  const gradChunks = rowChunks(ctx, v, rowBytes, [tableGrad, encoderGrad]);
  const u = (jBase: number, vChunk: number): ArrayBuffer =>
    packUniforms([pairs, d, kk, v, jBase, vChunk].map((n) => ["u32", n] as const));
  const all = u(0, v);
  const dz = ctx.pipeline("sae.backward.dz", dzWgsl);
  for (const c of tableChunks)
    ctx.dispatch(
      dz,
      [values, indices, g, ...c.bindings, s.dz, s.counts],
      u(c.rowStart, c.rowCount),
      gridRows(ctx, pairs),
    );
  ctx.dispatch(ctx.pipeline("sae.backward.scan", scanWgsl), [s.counts, s.offsets], all, [1]);
  const fill = ctx.pipeline("sae.backward.fill", fillWgsl);
  ctx.dispatch(fill, [values, indices, s.offsets, s.counts, s.order], all, grid1d(ctx, pairs));
  const sort = ctx.pipeline("sae.backward.sort", sortWgsl);
  ctx.dispatch(sort, [s.offsets, s.counts, s.order, s.dz, biasGrad], all, gridRows(ctx, v));
  const accumulate = ctx.pipeline("sae.backward.accumulate", accumulateWgsl);
  for (const c of gradChunks) {
    const bindings = [s.offsets, s.order, values, s.dz, g, x, ...c.bindings];
    ctx.dispatch(accumulate, bindings, u(c.rowStart, c.rowCount), gridRows(ctx, c.rowCount));
  }
}
