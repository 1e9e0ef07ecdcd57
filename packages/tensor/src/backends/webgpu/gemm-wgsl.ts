/**
 * WGSL of the register-tiled GEMM: each invocation computes a 4×4 block of C = alpha·op(A)·op(B) + beta·C with f32
 * accumulators, stepping K four at a time (a 4×4 tile of op(A) and of op(B) per step, 16 FMAs per load pair).
 * No workgroup memory: on lavapipe this measured fastest, and on real GPUs the 4×4 register reuse with vec4 loads
 * already cuts global traffic 4×; the workgroup-memory variant lives in gemm-tiled-wgsl.ts.
 *
 * Addressing (all in elements, from the start of each binding):
 *   op(A)[i, q] = a[aOff + batch·aBatch + i·lda + q]   (transA: ... + q·lda + i)
 *   op(B)[q, j] = b[bOff + batch·bBatch + q·ldb + j]   (transB: ... + j·ldb + q)
 *   C[i, j]     = c[cOff + batch·cBatch + i·ldc + j]
 * so one dispatch can cover a block of rows of A and C, a column block of C (rows of a transposed weight) or a K
 * block (rows of a plain weight) of operands split across bindings.
 */

/** How B's elements are stored: f32, bf16 packed two per u32, f16 packed (unpacked in the shader or read as `f16`). */
export type GemmBType = "f32" | "bf16" | "f16" | "f16native";

export interface GemmVariant {
  transA: boolean;
  transB: boolean;
  bType: GemmBType;
  /** A read as vec4 along its storage rows (needs the row length and every offset ≡ 0 mod 4). */
  vecA: boolean;
  /** B likewise. */
  vecB: boolean;
  /** beta ≠ 0: C is read (a separate variant: the read costs lavapipe seconds of compile time). */
  readC: boolean;
}

/** Invocations per workgroup of the register-tiled kernel; their layout (wgX along N × 64/wgX along M) is a uniform. */
export const GEMM_WG = 64;

/** Uniform block shared by both GEMM shaders (16 words). */
export const GEMM_PARAMS_WGSL = /* wgsl */ `
struct Params {
  m: u32, n: u32, k: u32, lda: u32,
  ldb: u32, ldc: u32, aOff: u32, bOff: u32,
  cOff: u32, aBatch: u32, bBatch: u32, cBatch: u32,
  alpha: f32, beta: f32, wgX: u32, pad: u32,
}`;

export function gemmVariantKey(v: GemmVariant): string {
  return `gemm:${v.transA ? "T" : "N"}${v.transB ? "T" : "N"}:${v.bType}:${v.vecA ? "vA" : "sA"}${v.vecB ? "vB" : "sB"}${v.readC ? ":C" : ""}`;
}

/** Binding declarations and the `loadA` / `loadB` (one element) and `loadA4` / `loadB4` (4 aligned elements) helpers. */
export function gemmLoadsWgsl(v: GemmVariant): string {
  const aDecl = v.vecA ? "array<vec4<f32>>" : "array<f32>";
  const loadA = v.vecA ? "a[e >> 2u][e & 3u]" : "a[e]";
  const loadA4 = v.vecA ? "a[e >> 2u]" : "vec4<f32>(a[e], a[e + 1u], a[e + 2u], a[e + 3u])";
  let prelude = "";
  let bDecl: string;
  let loadB: string;
  let loadB4: string;
  if (v.bType === "f32") {
    bDecl = v.vecB ? "array<vec4<f32>>" : "array<f32>";
    loadB = v.vecB ? "b[e >> 2u][e & 3u]" : "b[e]";
    loadB4 = v.vecB ? "b[e >> 2u]" : "vec4<f32>(b[e], b[e + 1u], b[e + 2u], b[e + 3u])";
  } else if (v.bType === "f16native") {
    prelude = "enable f16;";
    bDecl = v.vecB ? "array<vec4<f16>>" : "array<f16>";
    loadB = v.vecB ? "f32(b[e >> 2u][e & 3u])" : "f32(b[e])";
    loadB4 = v.vecB ? "vec4<f32>(b[e >> 2u])" : "vec4<f32>(f32(b[e]), f32(b[e + 1u]), f32(b[e + 2u]), f32(b[e + 3u]))";
  } else {
    // Two 16-bit elements per u32, element 2i in the low half; bf16 is the high half of an f32.
    prelude =
      v.bType === "bf16"
        ? "fn widen2(w: u32) -> vec2<f32> { return vec2<f32>(bitcast<f32>(w << 16u), bitcast<f32>(w & 0xffff0000u)); }"
        : "fn widen2(w: u32) -> vec2<f32> { return unpack2x16float(w); }";
    bDecl = v.vecB ? "array<vec2<u32>>" : "array<u32>";
    loadB = `widen2(${v.vecB ? "b[e >> 2u][(e >> 1u) & 1u]" : "b[e >> 1u]"})[e & 1u]`;
    loadB4 = v.vecB
      ? "vec4<f32>(widen2(b[e >> 2u].x), widen2(b[e >> 2u].y))"
      : "vec4<f32>(loadB(e), loadB(e + 1u), loadB(e + 2u), loadB(e + 3u))";
  }
  return `${prelude}
${GEMM_PARAMS_WGSL}
@group(0) @binding(0) var<storage, read> a: ${aDecl};
@group(0) @binding(1) var<storage, read> b: ${bDecl};
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;
fn loadA(e: u32) -> f32 { return ${loadA}; }
fn loadA4(e: u32) -> vec4<f32> { return ${loadA4}; }
fn loadB(e: u32) -> f32 { return ${loadB}; }
fn loadB4(e: u32) -> vec4<f32> { return ${loadB4}; }`;
}

/** Rows r of the op(A) tile over q..q+3 (`ar0..ar3`), for rows `ii` (clamped) starting at i0. */
function aTileWgsl(v: GemmVariant): string {
  if (!v.transA) {
    return [0, 1, 2, 3].map((r) => `let ar${r} = loadA4(aBase + ii[${r}] * p.lda + q);`).join("\n    ");
  }
  // A stored [K, M]: four contiguous runs over i at q..q+3, transposed in registers.
  const cols = v.vecA
    ? [0, 1, 2, 3].map((t) => `loadA4(aBase + (q + ${t}u) * p.lda + i0)`)
    : [0, 1, 2, 3].map((t) => {
        const row = `aBase + (q + ${t}u) * p.lda`;
        return `vec4<f32>(loadA(${row} + ii[0]), loadA(${row} + ii[1]), loadA(${row} + ii[2]), loadA(${row} + ii[3]))`;
      });
  return `let at = transpose(mat4x4<f32>(${cols.join(", ")}));
    let ar0 = at[0]; let ar1 = at[1]; let ar2 = at[2]; let ar3 = at[3];`;
}

/** Rows t of the op(B) tile (`bq0..bq3` = op(B)[q + t, j0..j0+3]). */
function bTileWgsl(v: GemmVariant): string {
  if (!v.transB) {
    return [0, 1, 2, 3]
      .map((t) => {
        const row = `bBase + (q + ${t}u) * p.ldb`;
        return v.vecB
          ? `let bq${t} = loadB4(${row} + j0);`
          : `let bq${t} = vec4<f32>(loadB(${row} + jj[0]), loadB(${row} + jj[1]), loadB(${row} + jj[2]), loadB(${row} + jj[3]));`;
      })
      .join("\n    ");
  }
  // B stored [N, K]: four runs along K (one per output column), transposed in registers.
  const cols = [0, 1, 2, 3].map((c) => `loadB4(bBase + jj[${c}] * p.ldb + q)`);
  return `let bt = transpose(mat4x4<f32>(${cols.join(", ")}));
    let bq0 = bt[0]; let bq1 = bt[1]; let bq2 = bt[2]; let bq3 = bt[3];`;
}

/** The scalar K-tail step (q one at a time): column of op(A) and row of op(B). */
function tailWgsl(v: GemmVariant): string {
  const a = (r: number) => (v.transA ? `loadA(aBase + q * p.lda + ii[${r}])` : `loadA(aBase + ii[${r}] * p.lda + q)`);
  const b = (c: number) => (v.transB ? `loadB(bBase + jj[${c}] * p.ldb + q)` : `loadB(bBase + q * p.ldb + jj[${c}])`);
  return `let bq = vec4<f32>(${b(0)}, ${b(1)}, ${b(2)}, ${b(3)});
    acc0 += ${a(0)} * bq; acc1 += ${a(1)} * bq; acc2 += ${a(2)} * bq; acc3 += ${a(3)} * bq;`;
}

/** Complete shader for one variant. Dispatch: [ceil(n / (4·wgX)), ceil(m / (4·wgY)), batch], wgY = 64 / wgX. */
export function gemm4x4Wgsl(v: GemmVariant): string {
  return `${gemmLoadsWgsl(v)}

@compute @workgroup_size(${GEMM_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let wgY = ${GEMM_WG}u / p.wgX;
  let j0 = (wid.x * p.wgX + lid % p.wgX) * 4u;
  let i0 = (wid.y * wgY + lid / p.wgX) * 4u;
  if (j0 >= p.n || i0 >= p.m) { return; }
  let batch = wid.z;
  let aBase = p.aOff + batch * p.aBatch;
  let bBase = p.bOff + batch * p.bBatch;
  // Rows / columns past the edge load the last valid one (no branches in the loop); their results are not stored.
  let ii = min(vec4<u32>(i0, i0 + 1u, i0 + 2u, i0 + 3u), vec4<u32>(p.m - 1u));
  let jj = min(vec4<u32>(j0, j0 + 1u, j0 + 2u, j0 + 3u), vec4<u32>(p.n - 1u));
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  let kMain = p.k & ~3u;
  for (var q = 0u; q < kMain; q += 4u) {
    ${aTileWgsl(v)}
    ${bTileWgsl(v)}
    acc0 += ar0.x * bq0 + ar0.y * bq1 + ar0.z * bq2 + ar0.w * bq3;
    acc1 += ar1.x * bq0 + ar1.y * bq1 + ar1.z * bq2 + ar1.w * bq3;
    acc2 += ar2.x * bq0 + ar2.y * bq1 + ar2.z * bq2 + ar2.w * bq3;
    acc3 += ar3.x * bq0 + ar3.y * bq1 + ar3.z * bq2 + ar3.w * bq3;
  }
  for (var q = kMain; q < p.k; q++) {
    ${tailWgsl(v)}
  }
  let cBase = p.cOff + batch * p.cBatch;
  storeRow(cBase, i0, j0, acc0);
  storeRow(cBase, i0 + 1u, j0, acc1);
  storeRow(cBase, i0 + 2u, j0, acc2);
  storeRow(cBase, i0 + 3u, j0, acc3);
}

${gemmStoreWgsl(v.readC)}`;
}

/**
 * storeRow: C[i, j0..j0+3] ← alpha·acc (+ beta·C with readC; without, C is not read, so NaNs in it do not
 * propagate). Written out per lane: a loop indexing acc dynamically costs lavapipe seconds of compile time.
 */
export function gemmStoreWgsl(readC: boolean): string {
  const v = readC ? "p.alpha * acc + p.beta * vec4<f32>(c[e], c[e + 1u], c[e + 2u], c[e + 3u])" : "p.alpha * acc";
  return `
fn storeRow(cBase: u32, i: u32, j0: u32, acc: vec4<f32>) {
  if (i >= p.m || j0 >= p.n) { return; }
  let e = cBase + i * p.ldc + j0;
  let v = ${v};
  c[e] = v.x;
  if (j0 + 1u < p.n) { c[e + 1u] = v.y; }
  if (j0 + 2u < p.n) { c[e + 2u] = v.z; }
  if (j0 + 3u < p.n) { c[e + 3u] = v.w; }
}`;
}
