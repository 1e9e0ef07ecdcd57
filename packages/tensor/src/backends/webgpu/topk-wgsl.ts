/**
 * WGSL of per-row top-k, one workgroup of 256 invocations per row, deterministic and exactly the js ranking
 * (backends/js/select.ts `ranksBefore`: larger first, NaN above +Inf, −0 = +0, equal values lower index first).
 *
 * Each entry gets a 64-bit composite key (orderKey(value), ~index) whose unsigned order is that ranking. A radix
 * select finds the k-th key one 8-bit digit at a time (a workgroup histogram of the entries still matching the
 * prefix, then the bin where the count from the top reaches k), stopping as soon as the chosen bin holds exactly the
 * entries still needed — after the 4 value digits unless ties straddle the k-th place. A collection pass then gathers
 * the entries above the prefix and the first `need` equal to it (contiguous chunks per invocation and an exclusive
 * scan, so equal keys — duplicate candidates — are taken in position order), and each selected entry is written at
 * its rank among the k (k²/256 comparisons per invocation, small for SAE k = 32). For n = 32768 that is ≤ 5 reads
 * of the row, coalesced except the collection pass.
 *
 * Sources (`mode`): "plain" x[row, pos]; "bias" z[row, pos] + bias[pos] (an f32 add, as the js Math.fround sum);
 * "among" the same at column cand[pos], ranked by that column index.
 */
export type TopKMode = "plain" | "bias" | "among";

/** Largest k whose selection stays in workgroup memory; larger k stage it in a scratch buffer [rows, 2k]. */
export const TOPK_KMAX_WORKGROUP = 512;
export const TOPK_WG = 256;

export function topKKey(mode: TopKMode, scratch: boolean): string {
  return `topk:${mode}:${scratch ? "scratch" : "wg"}`;
}

export function topKWgsl(mode: TopKMode, scratch: boolean): string {
  const inputs =
    mode === "plain"
      ? "@group(0) @binding(0) var<storage, read> src: array<f32>;"
      : mode === "bias"
        ? `@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read> bias: array<f32>;`
        : `@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read> bias: array<f32>;
@group(0) @binding(2) var<storage, read> cand: array<i32>;`;
  const first = mode === "plain" ? 1 : mode === "bias" ? 2 : 3;
  const entry =
    mode === "plain"
      ? "return vec2<u32>(bitcast<u32>(src[rowBase + pos]), pos);"
      : mode === "bias"
        ? "return vec2<u32>(bitcast<u32>(src[rowBase + pos] + bias[pos]), pos);"
        : "let j = u32(cand[pos]); return vec2<u32>(bitcast<u32>(src[rowBase + j] + bias[j]), j);";
  const selection = scratch
    ? `@group(0) @binding(${first + 2}) var<storage, read_write> sel: array<u32>; // [rows, 2k]: bits, index
fn selBase(row: u32) -> u32 { return row * 2u * p.k; }
fn setSel(row: u32, s: u32, e: vec2<u32>) { sel[selBase(row) + 2u * s] = e.x; sel[selBase(row) + 2u * s + 1u] = e.y; }
fn getSel(row: u32, s: u32) -> vec2<u32> { return vec2<u32>(sel[selBase(row) + 2u * s], sel[selBase(row) + 2u * s + 1u]); }`
    : `var<workgroup> sel: array<vec2<u32>, ${TOPK_KMAX_WORKGROUP}>;
fn setSel(row: u32, s: u32, e: vec2<u32>) { sel[s] = e; }
fn getSel(row: u32, s: u32) -> vec2<u32> { return sel[s]; }`;
  return `
struct Params { rows: u32, n: u32, len: u32, k: u32, rowsPerX: u32, p1: u32, p2: u32, p3: u32 }
${inputs}
@group(0) @binding(${first}) var<storage, read_write> outValues: array<f32>;
@group(0) @binding(${first + 1}) var<storage, read_write> outIndices: array<i32>;
${selection}
@group(0) @binding(${first + (scratch ? 3 : 2)}) var<uniform> p: Params;

const WG = ${TOPK_WG}u;
var<workgroup> hist: array<atomic<u32>, 256>;
var<workgroup> counts: array<vec2<u32>, ${TOPK_WG}>; // (above, equal) per invocation, then their exclusive scan
var<workgroup> sNeed: u32;
var<workgroup> sPrefix: vec2<u32>;
var<workgroup> sDepth: u32;
var<workgroup> sDone: u32;

/** (value bits, index) of entry pos of the row. */
fn entry(rowBase: u32, pos: u32) -> vec2<u32> { ${entry} }

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
    atomicStore(&hist[lid], 0u);
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
  for (var stride = 1u; stride < WG; stride *= 2u) {
    var v = counts[lid];
    if (lid >= stride) { v += counts[lid - stride]; }
    workgroupBarrier();
    counts[lid] = v;
    workgroupBarrier();
  }
  var slot = counts[lid] - mine; // exclusive (above, equal) before this chunk
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
  ${scratch ? "storageBarrier();" : "workgroupBarrier();"}
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
