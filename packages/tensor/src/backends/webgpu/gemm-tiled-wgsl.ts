import { type GemmVariant, gemmLoadsWgsl, gemmStoreWgsl } from "./gemm-wgsl.ts";

/**
 * Workgroup-memory GEMM for large shapes on real GPUs: 16×16 invocations share a 128×128 block of C, each keeping
 * an 8×8 block of accumulators (16 vec4). Per step of K they stage a 128×8 tile of op(A) and an 8×128 tile of op(B)
 * in workgroup memory (8 KiB; written as scalars, read back as vec4 — 64 FMAs per 4 vec4 reads), so every element of
 * A and B is read from global memory once per 128-wide block of C instead of once per 4-wide block. Global loads
 * follow each operand's storage rows (runs of 8 along K, or of 128 along M / N). Same bindings, uniforms and
 * addressing as gemm-wgsl.ts, whose register-tiled kernel serves smaller shapes and lavapipe (no gain there, and a
 * barrier is a coroutine switch that lavapipe compiles slowly).
 */
export const TILED = { tileM: 128, tileN: 128, tileK: 8, per: 8 } as const;

/** Where staging through workgroup memory pays: C blocks that fill a 128×128 tile and a K long enough to reuse it. */
export function tiledPays(m: number, n: number, k: number): boolean {
  return tiledEnabled && m >= TILED.tileM && n >= TILED.tileN && k >= 64;
}

let tiledEnabled = true;

/**
 * Turns the workgroup-memory variant on or off. The backend turns it off on software adapters: on lavapipe at 512³
 * it runs on par with the register-tiled kernel (0.9–1.6 GFLOP/s both; a 64×64 / 4×4 version was 2–3× slower) and
 * each of its pipelines costs seconds more to compile. Benchmarks compare both.
 */
export function setGemmTiled(enabled: boolean): void {
  tiledEnabled = enabled;
}

export function gemmTiled(): boolean {
  return tiledEnabled;
}

export function gemmTiledWgsl(v: GemmVariant): string {
  const { tileM, tileN, tileK, per } = TILED;
  const stage = (tileM * tileK) / 256; // elements of each tile an invocation stages per step
  // Element e of a tile → (row or column, kk), consecutive invocations walking each operand's storage rows.
  const aCoord = v.transA
    ? `let i = e % ${tileM}u; let kk = e / ${tileM}u;`
    : `let i = e / ${tileK}u; let kk = e % ${tileK}u;`;
  const aIndex = v.transA ? "aBase + q * p.lda + gi" : "aBase + gi * p.lda + q";
  const bCoord = v.transB
    ? `let j = e / ${tileK}u; let kk = e % ${tileK}u;`
    : `let j = e % ${tileN}u; let kk = e / ${tileN}u;`;
  const bIndex = v.transB ? "bBase + gj * p.ldb + q" : "bBase + q * p.ldb + gj";
  const rows = [...Array(per).keys()];
  const lane = ["x", "y", "z", "w"];
  const accDecl = rows.map((r) => `var acc${r}a = vec4<f32>(0.0); var acc${r}b = vec4<f32>(0.0);`).join("\n  ");
  // a0/a1: op(A) at this invocation's 8 rows; b0/b1: op(B) at its 8 columns (both for one kk).
  const fma = rows
    .map((r) => {
      const ar = `a${r >> 2}.${lane[r & 3]}`;
      return `acc${r}a += ${ar} * b0; acc${r}b += ${ar} * b1;`;
    })
    .join("\n      ");
  const stores = rows
    .map((r) => `storeRow(cBase, i0 + ${r}u, j0, acc${r}a); storeRow(cBase, i0 + ${r}u, j0 + 4u, acc${r}b);`)
    .join("\n  ");
  return `${gemmLoadsWgsl(v)}

var<workgroup> tileA: array<vec4<f32>, ${(tileM * tileK) / 4}>; // [kk, i], 4 rows a vec4
var<workgroup> tileB: array<vec4<f32>, ${(tileK * tileN) / 4}>; // [kk, j], 4 columns a vec4

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let batch = wid.z;
  let aBase = p.aOff + batch * p.aBatch;
  let bBase = p.bOff + batch * p.bBatch;
  let rowBase = wid.y * ${tileM}u;
  let colBase = wid.x * ${tileN}u;
  let t = lid.y * 16u + lid.x;
  ${accDecl}
  for (var k0 = 0u; k0 < p.k; k0 += ${tileK}u) {
    for (var s = 0u; s < ${stage}u; s++) {
      let e = t + s * 256u;
      {
        ${aCoord}
        let gi = rowBase + i;
        let q = k0 + kk;
        var v = 0.0;
        if (gi < p.m && q < p.k) { v = loadA(${aIndex}); }
        let slot = kk * ${tileM}u + i;
        tileA[slot / 4u][slot % 4u] = v;
      }
      {
        ${bCoord}
        let gj = colBase + j;
        let q = k0 + kk;
        var v = 0.0;
        if (gj < p.n && q < p.k) { v = loadB(${bIndex}); }
        let slot = kk * ${tileN}u + j;
        tileB[slot / 4u][slot % 4u] = v;
      }
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${tileK}u; kk++) {
      let ar = kk * ${tileM / 4}u + lid.y * 2u;
      let bc = kk * ${tileN / 4}u + lid.x * 2u;
      let a0 = tileA[ar];
      let a1 = tileA[ar + 1u];
      let b0 = tileB[bc];
      let b1 = tileB[bc + 1u];
      ${fma}
    }
    workgroupBarrier();
  }
  let cBase = p.cOff + batch * p.cBatch;
  let i0 = rowBase + lid.y * ${per}u;
  let j0 = colBase + lid.x * ${per}u;
  ${stores}
}

${gemmStoreWgsl(v.readC)}`;
}
