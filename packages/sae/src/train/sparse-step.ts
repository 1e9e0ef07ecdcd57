import {
  type AdamHyperparameters,
  adamUpdate,
  adamUpdateUnitRows,
  add,
  biasTopK,
  gemm,
  largeFloat32Array,
  mean,
  scale,
  sparseCodesBackward,
  sparseDecode,
  sum,
  Tensor,
} from "@difflens/tensor";
import { effectiveKAux, lrAt, type SaeTrainConfig } from "./config.ts";
import type { TrainState } from "./train-state.ts";

/**
 * One TopK SAE optimizer step with a hand-written backward pass that uses the sparsity:
 *
 *   z = (x − bDec)·Wencᵀ + bEnc          one dense GEMM (the only O(batch·dIn·dSae) work)
 *   a = ReLU(top-k(z)),  x̂ = a·Wdec + bDec,  e = x − x̂
 *   FVU  = Σ‖e‖² / Σ‖x − x̄‖²                                     (sparsify)
 *   AuxK = s·Σ‖ê − e‖² / Σ‖x − x̄‖²,  ê = Σ_{j ∈ top-kAux of dead} ReLU(z_j)·Wdec_j   (no bias: ê
 *          predicts the residual as in the paper; s = min(#dead / kAux, 1), e held constant)
 *   loss = FVU + auxkCoef·AuxK
 *
 * Gradients reach only the k active latents of each token plus its AuxK latents: Wdec rows and Wenc
 * rows are scatter-added per (token, latent) pair, never densely, and only those rows of the gradient
 * matrices are ever written or read (the others are never zeroed: see overwriteUntouched). Then: the component of each
 * decoder-row gradient parallel to the row is removed, Adam (dense, as torch) updates everything,
 * and decoder rows are renormalised to unit norm.
 *
 * Every O(batch·dSae) or O(dSae·dIn) pass runs in a @difflens/tensor kernel (threaded in the native
 * backend, whose results do not depend on the thread count): the encoder GEMM, biasTopK, sparseDecode,
 * sparseCodesBackward, adamUpdate, adamUpdateUnitRows; so do the O(batch·dIn) elementwise passes and column sums.
 * Only float64 row reductions stay here.
 */
export interface StepStats {
  loss: number;
  fvu: number;
  /** Mean squared error per element, in training space. */
  mse: number;
  /** SAELens explained variance: mean over tokens of 1 − ‖eₜ‖² / ‖xₜ − x̄‖². */
  explainedVariance: number;
  auxkLoss: number;
  /** Mean count of latents with activation > 0 per token. */
  l0: number;
  /** Latents counted dead when the step started. */
  numDead: number;
  lr: number;
}

/**
 * Rows per encoder GEMM: the [rows, dSae] pre-activation buffer gets 128 MiB (1024 rows at dSae 32768, 256 at 131072,
 * never fewer than 256). Every call repacks the whole encoder: at 512 rows that cost our built-in GEMM ~10% of its
 * rate (OpenBLAS ~1%), at 1024 rows it runs within 1% of a single 4096-row call.
 */
export function encoderChunkRows(dSae: number): number {
  return Math.max(256, Math.min(1024, Math.floor((128 << 20) / (4 * dSae))));
}
/** sparsify's decoder normalisation: w / (‖w‖ + ε_f32). */
export const F32_EPS = 1.1920928955078125e-7;

/** Buffers reused across steps (allocated for the largest batch seen). */
export class StepScratch {
  rows = 0;
  xc = new Float32Array(0);
  z = new Float32Array(0);
  topIdx = new Int32Array(0);
  topVal = new Float32Array(0);
  auxIdx = new Int32Array(0);
  auxVal = new Float32Array(0);
  e = new Float32Array(0);
  r = new Float32Array(0);
  gWEnc = new Float32Array(0);
  gWDec = new Float32Array(0);
  gBEnc = new Float32Array(0);
  gBDec = new Float32Array(0);
  touched = new Uint8Array(0);
  deadList = new Int32Array(0);

  ensure(rows: number, cfg: SaeTrainConfig): void {
    const { dIn, dSae, k } = cfg;
    const kAux = effectiveKAux(cfg);
    if (this.gWEnc.length !== dSae * dIn) {
      this.gWEnc = largeFloat32Array(dSae * dIn);
      this.gWDec = largeFloat32Array(dSae * dIn);
      this.gBEnc = new Float32Array(dSae);
      this.gBDec = new Float32Array(dIn);
      this.touched = new Uint8Array(dSae);
      this.deadList = new Int32Array(dSae);
      this.rows = 0;
    }
    if (rows > this.rows || this.topIdx.length !== this.rows * k || this.auxIdx.length !== this.rows * kAux) {
      this.rows = Math.max(rows, this.rows);
      const n = this.rows;
      this.xc = largeFloat32Array(n * dIn);
      this.z = largeFloat32Array(Math.min(n, encoderChunkRows(dSae)) * dSae);
      this.topIdx = new Int32Array(n * k);
      this.topVal = new Float32Array(n * k);
      this.auxIdx = new Int32Array(n * kAux);
      this.auxVal = new Float32Array(n * kAux);
      this.e = largeFloat32Array(n * dIn);
      this.r = largeFloat32Array(n * dIn);
    }
  }
}

/** Σ v[offset + i]² over i < n in float64, four partial sums (one sum is a chain of dependent adds). */
function sumSquares(v: Float32Array, offset: number, n: number): number {
  let s0 = 0,
    s1 = 0,
    s2 = 0,
    s3 = 0,
    i = 0;
  for (; i + 4 <= n; i += 4) {
    const a = v[offset + i]!,
      b = v[offset + i + 1]!,
      c = v[offset + i + 2]!,
      d = v[offset + i + 3]!;
    s0 += a * a;
    s1 += b * b;
    s2 += c * c;
    s3 += d * d;
  }
  for (; i < n; i++) s0 += v[offset + i]! * v[offset + i]!;
  return s0 + s1 + (s2 + s3);
}

/** Runs one step on x [rows, dIn] (raw activations) and updates `state` in place. */
export function trainStep(
  state: TrainState,
  cfg: SaeTrainConfig,
  x: Float32Array,
  rows: number,
  sc: StepScratch,
): StepStats {
  const stats = forwardBackward(state, cfg, x, rows, sc);
  const lr = applyUpdate(state, cfg, sc);
  recordFiring(state, cfg, rows, sc);
  return { ...stats, lr };
}

const f32 = (shape: number[], data: Float32Array): Tensor<"f32"> => new Tensor("f32", shape, data);
const i32 = (shape: number[], data: Int32Array): Tensor<"i32"> => new Tensor("i32", shape, data);

/**
 * Forward pass and hand-written backward: leaves dL/dparams in sc.gWEnc, sc.gWDec, sc.gBEnc, sc.gBDec
 * (matrix rows defined only where sc.touched is set: the others hold stale values; gBEnc is 0 there) and does not
 * change the parameters.
 */
export function forwardBackward(
  state: TrainState,
  cfg: SaeTrainConfig,
  x: Float32Array,
  rows: number,
  sc: StepScratch,
): Omit<StepStats, "lr"> {
  const { dIn: d, dSae: S, k } = cfg;
  sc.ensure(rows, cfg);
  const p = state.params;
  const B = rows;

  // Inputs in training space, xc = x·inputScale − bDec, and their variance around the batch mean (float64 sums).
  // The elementwise passes and the column sums run in tensor kernels (threaded in native); only the float64 row
  // reductions stay here.
  const xc = sc.xc;
  const xcT = f32([B, d], xc.subarray(0, B * d)); // [B, dIn]: x·inputScale first, then minus bDec in place
  scale(f32([B, d], x.subarray(0, B * d)), state.inputScale, xcT);
  const batchMean = mean(xcT, 0).data as Float32Array; // [dIn]
  let totalVar = 0;
  const tokVar = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    const o = b * d;
    let s = 0;
    for (let i = 0; i < d; i++) {
      const t = xc[o + i]! - batchMean[i]!;
      s += t * t;
    }
    tokVar[b] = s;
    totalVar += s;
  }
  const negBDec = new Float32Array(d);
  for (let i = 0; i < d; i++) negBDec[i] = -p.bDec[i]!;
  add(xcT, f32([d], negBDec), xcT);

  // Dead latents as of the start of the step (sparsify's order).
  let numDead = 0;
  for (let j = 0; j < S; j++) if (state.sinceFired[j]! > cfg.deadAfterTokens) sc.deadList[numDead++] = j;
  const kAuxCfg = effectiveKAux(cfg);
  const kAux = Math.min(kAuxCfg, numDead);
  const auxScale = numDead > 0 ? Math.min(numDead / kAuxCfg, 1) : 0;

  // Encoder: chunked dense GEMM, then per-row top-k of z + bEnc (and top-kAux among dead latents).
  const wEncT = f32([S, d], p.wEnc),
    wDecT = f32([S, d], p.wDec),
    bEncT = f32([S], p.bEnc);
  const dead = i32([numDead], sc.deadList.subarray(0, numDead));
  const chunkRows = encoderChunkRows(S);
  for (let r0 = 0; r0 < B; r0 += chunkRows) {
    const n = Math.min(chunkRows, B - r0);
    const z = f32([n, S], sc.z.subarray(0, n * S)); // [n, dSae]
    gemm(f32([n, d], xc.subarray(r0 * d, (r0 + n) * d)), wEncT, { transB: true, out: z });
    const top = {
      values: f32([n, k], sc.topVal.subarray(r0 * k, (r0 + n) * k)),
      indices: i32([n, k], sc.topIdx.subarray(r0 * k, (r0 + n) * k)),
    };
    const among =
      kAux > 0
        ? {
            candidates: dead,
            k: kAux,
            values: f32([n, kAux], sc.auxVal.subarray(r0 * kAux, (r0 + n) * kAux)),
            indices: i32([n, kAux], sc.auxIdx.subarray(r0 * kAux, (r0 + n) * kAux)),
          }
        : undefined;
    biasTopK(z, bEncT, k, top, among);
  }
  const topIdx = i32([B, k], sc.topIdx.subarray(0, B * k)),
    topVal = f32([B, k], sc.topVal.subarray(0, B * k));
  const auxIdx = i32([B, kAux], sc.auxIdx.subarray(0, B * kAux)),
    auxVal = f32([B, kAux], sc.auxVal.subarray(0, B * kAux));

  // Sparse decode, residual e = x − x̂ (starting from xc = x − bDec), FVU.
  const e = sc.e;
  e.set(xc.subarray(0, B * d));
  const eT = f32([B, d], e.subarray(0, B * d));
  sparseDecode(eT, topIdx, topVal, wDecT, -1);
  let sumE2 = 0,
    evSum = 0,
    active = 0;
  for (let c = 0; c < B * k; c++) if (sc.topVal[c]! > 0) active++;
  for (let b = 0; b < B; b++) {
    const s = sumSquares(e, b * d, d);
    sumE2 += s;
    evSum += tokVar[b]! > 0 ? 1 - s / tokVar[b]! : 0;
  }
  // AuxK: dead latents predict the residual, r = ê − e (r starts as −e).
  const rAux = sc.r;
  const rT = f32([B, d], rAux.subarray(0, B * d));
  if (kAux > 0) scale(eT, -1, rT);
  // Backward: dL/dx̂ = −2e/TV, stored into e; dL/dbDec is its column sum. dL/dê = 2·coef·s·r/TV is stored into r.
  const { gWEnc, gWDec, gBEnc, gBDec, touched } = sc;
  scale(eT, -2 / totalVar, eT);
  gBDec.set(sum(eT, 0).data as Float32Array);
  let sumR2 = 0;
  if (kAux > 0) {
    sparseDecode(rT, auxIdx, auxVal, wDecT, 1);
    sumR2 = sumSquares(rAux, 0, B * d);
    scale(rT, (2 * cfg.auxkCoef * auxScale) / totalVar, rT);
  }
  const fvu = sumE2 / totalVar;
  const auxkLoss = kAux > 0 ? (auxScale * sumR2) / totalVar : 0;
  const loss = fvu + cfg.auxkCoef * auxkLoss;

  // Gradient rows are kept only where touched (Adam reads no others): the kernel overwrites rows not yet touched this
  // step instead of adding to them, so the matrices are never zeroed, and the native kernel never reads them.
  const grads = {
    table: f32([S, d], gWDec),
    encoder: f32([S, d], gWEnc),
    bias: f32([S], gBEnc),
    touched,
    overwriteUntouched: true,
  };
  sparseCodesBackward(topIdx, topVal, eT, xcT, wDecT, grads);
  if (kAux > 0) sparseCodesBackward(auxIdx, auxVal, rT, xcT, wDecT, grads);
  // bDec also enters the encoder through (x − bDec): dL/dbDec −= Σⱼ dL/dbEncⱼ · Wencⱼ (gBEnc is 0 off the touched rows).
  gemm(f32([1, S], gBEnc), wEncT, { alpha: -1, beta: 1, out: f32([1, d], gBDec) });
  return { loss, fvu, mse: sumE2 / (B * d), explainedVariance: evSum / B, auxkLoss, l0: active / B, numDead };
}

/** Decoder-gradient projection, Adam, decoder renormalisation; clears touched and gBEnc. Returns the lr used. */
export function applyUpdate(state: TrainState, cfg: SaeTrainConfig, sc: StepScratch): number {
  const { dIn: d, dSae: S } = cfg;
  const p = state.params,
    m = state.adamM,
    v = state.adamV;
  const { gWEnc, gWDec, gBEnc, gBDec, touched } = sc;
  const mat = (data: Float32Array): Tensor<"f32"> => f32([S, d], data);
  const t = state.adamT + 1;
  const lr = lrAt(cfg, state.step + 1);
  const h: AdamHyperparameters = { lr, beta1: cfg.adamBeta1, beta2: cfg.adamBeta2, eps: cfg.adamEps, t };
  // Adam (dense, as torch: untouched rows still decay their moments and move).
  adamUpdate(mat(p.wEnc), mat(gWEnc), mat(m.wEnc), mat(v.wEnc), h, { rowMask: touched });
  // Decoder: remove the gradient component parallel to each (unit) row, Adam, then unit-norm rows, one row at a time.
  adamUpdateUnitRows(mat(p.wDec), mat(gWDec), mat(m.wDec), mat(v.wDec), h, { rowMask: touched, normEps: F32_EPS });
  adamUpdate(f32([S], p.bEnc), f32([S], gBEnc), f32([S], m.bEnc), f32([S], v.bEnc), h);
  adamUpdate(f32([d], p.bDec), f32([d], gBDec), f32([d], m.bDec), f32([d], v.bDec), h);
  gBEnc.fill(0);
  touched.fill(0);
  state.adamT = t;
  state.step += 1;
  return lr;
}

/** Firing statistics, after the step (sparsify updates them after the forward pass). */
export function recordFiring(state: TrainState, cfg: SaeTrainConfig, rows: number, sc: StepScratch): void {
  const pairs = rows * cfg.k;
  recordFiringOf(state, rows, [{ indices: sc.topIdx.subarray(0, pairs), values: sc.topVal.subarray(0, pairs) }]);
}

/** recordFiring from a batch's top-k codes, given as blocks of rows in row order (each [blockRows, k]). */
export function recordFiringOf(
  state: Pick<TrainState, "sinceFired" | "fireCounts" | "tokensSeen" | "windowTokens">,
  rows: number,
  codes: readonly { indices: Int32Array; values: Float32Array }[],
): void {
  const since = state.sinceFired;
  for (let j = 0; j < since.length; j++) since[j]! += rows;
  for (const { indices, values } of codes) {
    for (let c = 0; c < values.length; c++) {
      if (values[c]! > 0) {
        const j = indices[c]!;
        since[j] = 0;
        state.fireCounts[j]! += 1;
      }
    }
  }
  state.tokensSeen += rows;
  state.windowTokens += rows;
}
