/**
 * WGSL of per-row top-k, one workgroup of 64 invocations per row, deterministic and exactly the js ranking
 * (backends/js/select.ts `ranksBefore`: larger first, NaN above +Inf, −0 = +0, equal values lower index first).
 *
 * Each entry gets a 64-bit composite key (orderKey(value), ~index) whose unsigned order is that ranking. A radix
 * select finds the k-th key one 8-bit digit at a time (a workgroup histogram of the entries still matching the
 * prefix, then the bin where the count from the top reaches k), stopping as soon as the chosen bin holds exactly the
 * entries still needed — after the 4 value digits unless ties straddle the k-th place. A collection pass then gathers
 * the entries above the prefix and the first `need` equal to it (contiguous chunks per invocation and an exclusive
 * scan, so equal keys — duplicate candidates — are taken in position order), and each selected entry is written at
 * its rank among the k (k/64 entries × k comparisons per invocation, small for SAE k = 32). The selection is staged
 * in a scratch buffer (global memory: any k, and for SAE shapes tiny next to the passes over the row). For
 * n = 32768 that is ≤ 5 reads of the row, coalesced except the collection pass.
 *
 * 64 invocations per row: short rows (an SAE of a few hundred latents) idle less of a workgroup — on lavapipe
 * [1024, 128] took 75 ms instead of 206 with 256, and [64, 32768] no longer. (Ranking short rows directly, len²
 * comparisons without barriers, was slower there: 300 ms; splitting the 256-bin search across invocations gained
 * nothing.)
 *
 * Sources (`mode`): "plain" x[row, pos]; "bias" z[row, pos] + bias[pos] (an f32 add, as the js Math.fround sum);
 * "among" the same at column cand[pos], ranked by that column index.
 */
export type TopKMode = "plain" | "bias" | "among";
export const TOPK_MODE: Record<TopKMode, number> = { plain: 0, bias: 1, among: 2 };
export const TOPK_WG = 64;
export const TOPK_KEY = "topk";

/**
 * One shader for every mode (a uniform picks the source; unused bindings get a stand-in), so a process compiles
 * it once — lavapipe takes seconds per pipeline. Bindings: src, bias, cand, values, indices, sel (scratch
 * [rows, 2k] u32 holding the selection before it is ranked), uniforms.
 */
export function topKWgsl(): string {
  return `
struct Params { rows: u32, n: u32, len: u32, k: u32, rowsPerX: u32, mode: u32, p2: u32, p3: u32 }
@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read> bias: array<f32>;
@group(0) @binding(2) var<storage, read> cand: array<i32>;
@group(0) @binding(3) var<storage, read_write> outValues: array<f32>;
@group(0) @binding(4) var<storage, read_write> outIndices: array<i32>;
@group(0) @binding(5) var<storage, read_write> sel: array<u32>;
@group(0) @binding(6) var<uniform> p: Params;

const WG = ${TOPK_WG}u;
var<workgroup> hist: array<atomic<u32>, 256>;
var<workgroup> counts: array<vec2<u32>, ${TOPK_WG}>; // (above, equal) per invocation, then their exclusive scan
var<workgroup> sNeed: u32;
var<workgroup> sPrefix: vec2<u32>;
var<workgroup> sDepth: u32;
var<workgroup> sDone: u32;

/** (value bits, index) of entry pos of the row. */
fn entry(rowBase: u32, pos: u32) -> vec2<u32> {
  if (p.mode == 0u) { return vec2<u32>(bitcast<u32>(src[rowBase + pos]), pos); }
  let j = select(pos, u32(cand[pos]), p.mode == 2u);
  return vec2<u32>(bitcast<u32>(src[rowBase + j] + bias[j]), j);
}

fn setSel(row: u32, s: u32, e: vec2<u32>) { sel[2u * (row * p.k + s)] = e.x; sel[2u * (row * p.k + s) + 1u] = e.y; }
fn getSel(row: u32, s: u32) -> vec2<u32> { return vec2<u32>(sel[2u * (row * p.k + s)], sel[2u * (row * p.k + s) + 1u]); }

/** Unsigned order of the ranking: NaN highest, then +Inf … −Inf, with −0 as +0. */
fn orderKey(bits: u32) -> u32 {
  if ((bits & 0x7fffffffu) > 0x7f800000u) { return 0xffffffffu; }
  if (bits == 0x80000000u) { return 0x80000000u; }
  if ((bits & 0x80000000u) != 0u) { return ~bits; }
  return bits | 0x80000000u;
}

fn composite(e: vec2<u32>) -> vec2<u32> { return vec2<u32>(orderKey(e.x), ~e.y); }

/** The first d digits (8 bits each) of a composite key, the rest zero. */
fn topDigits(c: vec2<u32>, d: u32) -> vec2<u32> {
  if (d == 0u) { return vec2<u32>(0u); }
  if (d < 4u) { return vec2<u32>(c.x & ~(0xffffffffu >> (8u * d)), 0u); }
  if (d == 4u) { return vec2<u32>(c.x, 0u); }
  if (d < 8u) { return vec2<u32>(c.x, c.y & ~(0xffffffffu >> (8u * (d - 4u)))); }
  return c;
}

fn digit(c: vec2<u32>, d: u32) -> u32 {
  if (d < 4u) { return (c.x >> (24u - 8u * d)) & 255u; }
  return (c.y >> (24u - 8u * (d - 4u))) & 255u;
}

/** -1, 0, 1: the masked key below, equal to, above the prefix. */
fn cmpPrefix(m: vec2<u32>, prefix: vec2<u32>) -> i32 {
  if (m.x != prefix.x) { return select(-1, 1, m.x > prefix.x); }
  if (m.y != prefix.y) { return select(-1, 1, m.y > prefix.y); }
  return 0;
}

@compute @workgroup_size(${TOPK_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * p.rowsPerX;
  if (row >= p.rows) { return; }
  let rowBase = row * p.n;
  if (lid == 0u) {
    sNeed = p.k;
    sPrefix = vec2<u32>(0u);
    sDepth = 0u;
    sDone = select(0u, 1u, p.k >= p.len);
  }
  // Radix select, one digit per pass.
  for (var d = 0u; d < 8u; d++) {
    if (workgroupUniformLoad(&sDone) != 0u) { break; }
    for (var b = lid; b < 256u; b += WG) { atomicStore(&hist[b], 0u); }
    workgroupBarrier();
    let prefix = sPrefix;
    for (var pos = lid; pos < p.len; pos += WG) {
      let c = composite(entry(rowBase, pos));
      if (all(topDigits(c, d) == prefix)) { atomicAdd(&hist[digit(c, d)], 1u); }
    }
    workgroupBarrier();
    if (lid == 0u) {
      let need = sNeed;
      var above = 0u;
      var b = 255u;
      loop {
        let count = atomicLoad(&hist[b]);
        if (above + count >= need || b == 0u) {
          sNeed = need - above;
          sDone = select(0u, 1u, count == need - above);
          break;
        }
        above += count;
        b -= 1u;
      }
      if (d < 4u) { sPrefix.x |= b << (24u - 8u * d); } else { sPrefix.y |= b << (24u - 8u * (d - 4u)); }
      sDepth = d + 1u;
    }
  }
  workgroupBarrier();
  let depth = sDepth;
  let prefix = sPrefix;
  let need = sNeed;
  // Collection: contiguous chunks so the equal-to-prefix entries are taken in position order.
  let chunk = (p.len + WG - 1u) / WG;
  let begin = min(lid * chunk, p.len);
  let end = min(begin + chunk, p.len);
  var mine = vec2<u32>(0u);
  for (var pos = begin; pos < end; pos++) {
    let c = cmpPrefix(topDigits(composite(entry(rowBase, pos)), depth), prefix);
    if (c > 0) { mine.x += 1u; } else if (c == 0) { mine.y += 1u; }
  }
  counts[lid] = mine;
  workgroupBarrier();
  // Exclusive scan of the 64 (above, equal) counts by one invocation: two barriers instead of a tree's twelve
  // (each barrier splits a lavapipe shader into another coroutine segment to compile).
  if (lid == 0u) {
    var sum = vec2<u32>(0u);
    for (var t = 0u; t < WG; t++) {
      let c = counts[t];
      counts[t] = sum;
      sum += c;
    }
  }
  workgroupBarrier();
  var slot = counts[lid]; // (above, equal) before this chunk
  let aboveTotal = p.k - need;
  for (var pos = begin; pos < end; pos++) {
    let e = entry(rowBase, pos);
    let c = cmpPrefix(topDigits(composite(e), depth), prefix);
    if (c > 0) {
      setSel(row, slot.x, e);
      slot.x += 1u;
    } else if (c == 0) {
      if (slot.y < need) { setSel(row, aboveTotal + slot.y, e); }
      slot.y += 1u;
    }
  }
  storageBarrier();
  // Each selected entry goes to its rank among the k (ties of identical entries by slot).
  for (var s = lid; s < p.k; s += WG) {
    let e = getSel(row, s);
    let key = composite(e);
    var rank = 0u;
    for (var t = 0u; t < p.k; t++) {
      let o = composite(getSel(row, t));
      if (o.x > key.x || (o.x == key.x && (o.y > key.y || (o.y == key.y && t < s)))) { rank += 1u; }
    }
    outValues[row * p.k + rank] = bitcast<f32>(e.x);
    outIndices[row * p.k + rank] = i32(e.y);
  }
}
`;
}
