import type { Backend } from "../../backend.ts";
import { cast } from "./cast.ts";
import { add, axpby, geluTanhGate, mul, scale, silu, siluGate, tanhSoftcap } from "./elementwise.ts";
import { batchedGemm, gemm } from "./gemm.ts";
import { copy, hostStorage, maskScores, sliceRows, swapAxes12, writeSeq } from "./layout.ts";
import { adamUpdate, normalizeRows, projectOutRows } from "./optim.ts";
import { argmax, max, mean, sum } from "./reduce.ts";
import { rmsNorm, ropeInPlace, softmax } from "./rows.ts";
import { gatherRows, scatterAddRows, topK } from "./select.ts";
import { biasTopK, sparseCodesBackward, sparseDecode } from "./sparse.ts";

/**
 * The reference backend: plain TypeScript, float64 accumulation, always available, single-threaded.
 * It is the oracle the parity suite compares other backends with (besides float64 math in the tests).
 */
export function createJsBackend(): Backend {
  return {
    name: "js",
    ...hostStorage,
    gemm,
    batchedGemm,
    add,
    mul,
    scale,
    axpby,
    rmsNorm,
    ropeInPlace,
    softmax,
    silu,
    siluGate,
    tanhSoftcap,
    geluTanhGate,
    topK,
    gatherRows,
    scatterAddRows,
    sum,
    mean,
    max,
    argmax,
    cast,
    copy,
    sliceRows,
    swapAxes12,
    maskScores,
    writeSeq,
    biasTopK,
    sparseDecode,
    sparseCodesBackward,
    adamUpdate,
    projectOutRows,
    normalizeRows,
    setThreads: () => {},
    getThreads: () => 1,
  };
}
