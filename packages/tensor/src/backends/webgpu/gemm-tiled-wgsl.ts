import { type GemmVariant, gemmLoadsWgsl, gemmStoreWgsl } from "./gemm-wgsl.ts";

/**
 * Workgroup-memory GEMM for large shapes on real GPUs: 16×16 invocations share a 64×64 block of C, staging a
 * 64×16 tile of op(A) and a 16×64 tile of op(B) in workgroup memory per step (8 KiB), each invocation keeping a
 * 4×4 block of accumulators. Global loads are coalesced along each operand's storage rows; every element of A and
 * B is read from global memory once per 64-wide block instead of once per 4-wide block. Same bindings, uniforms and
 * addressing as gemm-wgsl.ts (the register-tiled kernel, which small shapes — and lavapipe — prefer).
 */
export const TILED = { tileM: 64, tileN: 64, tileK: 16 } as const;

/** Where staging through workgroup memory pays: C blocks that fill a 64×64 tile and a K long enough to reuse it. */
export function tiledPays(m: number, n: number, k: number, batch: number): boolean {
  return tiledEnabled && m >= 64 && n >= 64 && k >= 64 && batch >= 1;
}

let tiledEnabled = true;

/** Turns the workgroup-memory variant on or off (benchmarks compare both; lavapipe runs faster without it). */
export function setGemmTiled(enabled: boolean): void {
  tiledEnabled = enabled;
}

export function gemmTiledWgsl(v: GemmVariant): string {
  const { tileM, tileN, tileK } = TILED;
  // Element e (0..1023) of the tile this invocation stages → (row, kk) of A / (kk, col) of B, consecutive
  // invocations walking each operand's storage rows.
  const aCoord = v.transA
    ? `let i = e % ${tileM}u; let kk = e / ${tileM}u;`
    : `let i = e / ${tileK}u; let kk = e % ${tileK}u;`;
  const aIndex = v.transA ? "aBase + q * p.lda + gi" : "aBase + gi * p.lda + q";
  const bCoord = v.transB
    ? `let j = e / ${tileK}u; let kk = e % ${tileK}u;`
    : `let j = e % ${tileN}u; let kk = e / ${tileN}u;`;
  const bIndex = v.transB ? "bBase + gj * p.ldb + q" : "bBase + q * p.ldb + gj";
  return `${gemmLoadsWgsl(v)}

var<workgroup> tileA: array<f32, ${tileM * tileK}>; // [kk, i]
var<workgroup> tileB: array<f32, ${tileK * tileN}>; // [kk, j]

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let batch = wid.z;
  let aBase = p.aOff + batch * p.aBatch;
  let bBase = p.bOff + batch * p.bBatch;
  let rowBase = wid.y * ${tileM}u;
  let colBase = wid.x * ${tileN}u;
  let t = lid.y * 16u + lid.x;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var k0 = 0u; k0 < p.k; k0 += ${tileK}u) {
    for (var s = 0u; s < 4u; s++) {
      let e = t + s * 256u;
      {
        ${aCoord}
        let gi = rowBase + i;
        let q = k0 + kk;
        var v = 0.0;
        if (gi < p.m && q < p.k) { v = loadA(${aIndex}); }
        tileA[kk * ${tileM}u + i] = v;
      }
      {
        ${bCoord}
        let gj = colBase + j;
        let q = k0 + kk;
        var v = 0.0;
        if (gj < p.n && q < p.k) { v = loadB(${bIndex}); }
        tileB[kk * ${tileN}u + j] = v;
      }
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${tileK}u; kk++) {
      let ar = kk * ${tileM}u + lid.y * 4u;
      let bc = kk * ${tileN}u + lid.x * 4u;
      let av = vec4<f32>(tileA[ar], tileA[ar + 1u], tileA[ar + 2u], tileA[ar + 3u]);
      let bv = vec4<f32>(tileB[bc], tileB[bc + 1u], tileB[bc + 2u], tileB[bc + 3u]);
      acc0 += av.x * bv;
      acc1 += av.y * bv;
      acc2 += av.z * bv;
      acc3 += av.w * bv;
    }
    workgroupBarrier();
  }
  let cBase = p.cOff + batch * p.cBatch;
  let i0 = rowBase + lid.y * 4u;
  let j0 = colBase + lid.x * 4u;
  storeRow(cBase, i0, j0, acc0);
  storeRow(cBase, i0 + 1u, j0, acc1);
  storeRow(cBase, i0 + 2u, j0, acc2);
  storeRow(cBase, i0 + 3u, j0, acc3);
}

${gemmStoreWgsl(v.readC)}`;
}
