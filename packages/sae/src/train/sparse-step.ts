import { Tensor, gemm } from "@difflens/tensor";
import { TopKSelector } from "../topk-select.ts";
import { adamUpdate, adamUpdateRows, type AdamHyper } from "./adam.ts";
import { effectiveKAux, lrAt, type SaeTrainConfig } from "./config.ts";
import { normalizeRows, type TrainState } from "./train-state.ts";

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
 * rows are scatter-added per (token, latent) pair, never densely. Then: the component of each
 * decoder-row gradient parallel to the row is removed, Adam (dense, as torch) updates everything,
 * and decoder rows are renormalised to unit norm.
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

/** Rows per encoder GEMM: bounds the [rows, dSae] pre-activation buffer. */
const CHUNK_ROWS = 512;

/** Buffers reused across steps (allocated for the largest batch seen). */
export class StepScratch {
  rows = 0;
  xs = new Float32Array(0);
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
  topSel = new TopKSelector(1);
  auxSel = new TopKSelector(1);

  ensure(rows: number, cfg: SaeTrainConfig): void {
    const { dIn, dSae, k } = cfg;
    const kAux = effectiveKAux(cfg);
    if (this.gWEnc.length !== dSae * dIn) {
      this.gWEnc = new Float32Array(dSae * dIn);
      this.gWDec = new Float32Array(dSae * dIn);
      this.gBEnc = new Float32Array(dSae);
      this.gBDec = new Float32Array(dIn);
      this.touched = new Uint8Array(dSae);
      this.deadList = new Int32Array(dSae);
      this.topSel = new TopKSelector(k);
      this.auxSel = new TopKSelector(kAux);
      this.rows = 0;
    }
    if (rows > this.rows) {
      this.rows = rows;
      this.xs = new Float32Array(rows * dIn);
      this.xc = new Float32Array(rows * dIn);
      this.z = new Float32Array(Math.min(rows, CHUNK_ROWS) * dSae);
      this.topIdx = new Int32Array(rows * k);
      this.topVal = new Float32Array(rows * k);
      this.auxIdx = new Int32Array(rows * kAux);
      this.auxVal = new Float32Array(rows * kAux);
      this.e = new Float32Array(rows * dIn);
      this.r = new Float32Array(rows * dIn);
    }
  }
}

/** Runs one step on x [rows, dIn] (raw activations) and updates `state` in place. */
export function trainStep(state: TrainState, cfg: SaeTrainConfig, x: Float32Array, rows: number, sc: StepScratch): StepStats {
  const stats = forwardBackward(state, cfg, x, rows, sc);
  const lr = applyUpdate(state, cfg, sc);
  recordFiring(state, cfg, rows, sc);
  return { ...stats, lr };
}

/**
 * Forward pass and hand-written backward: leaves dL/dparams in sc.gWEnc, sc.gWDec, sc.gBEnc, sc.gBDec
 * (matrix rows nonzero only where sc.touched is set) and does not change the parameters.
 */
export function forwardBackward(state: TrainState, cfg: SaeTrainConfig, x: Float32Array, rows: number, sc: StepScratch): Omit<StepStats, "lr"> {
  const { dIn: d, dSae: S, k } = cfg;
  sc.ensure(rows, cfg);
  const p = state.params;
  const B = rows;

  // Inputs in training space and their total variance around the batch mean.
  const xs = sc.xs;
  const scale = state.inputScale;
  for (let i = 0; i < B * d; i++) xs[i] = x[i]! * scale;
  const mean = new Float64Array(d);
  for (let b = 0; b < B; b++) for (let i = 0; i < d; i++) mean[i]! += xs[b * d + i]!;
  for (let i = 0; i < d; i++) mean[i]! /= B;
  let totalVar = 0;
  const tokVar = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let i = 0; i < d; i++) { const t = xs[b * d + i]! - mean[i]!; s += t * t; }
    tokVar[b] = s;
    totalVar += s;
  }
  const xc = sc.xc;
  for (let b = 0; b < B; b++) for (let i = 0; i < d; i++) xc[b * d + i] = xs[b * d + i]! - p.bDec[i]!;

  // Dead latents as of the start of the step (sparsify's order).
  let numDead = 0;
  for (let j = 0; j < S; j++) if (state.sinceFired[j]! > cfg.deadAfterTokens) sc.deadList[numDead++] = j;
  const kAuxCfg = effectiveKAux(cfg);
  const kAux = Math.min(kAuxCfg, numDead);
  const auxScale = numDead > 0 ? Math.min(numDead / kAuxCfg, 1) : 0;

  // Encoder: chunked dense GEMM, then per-row top-k (and top-kAux among dead latents).
  const wEncT = new Tensor("f32", [S, d], p.wEnc);
  for (let r0 = 0; r0 < B; r0 += CHUNK_ROWS) {
    const n = Math.min(CHUNK_ROWS, B - r0);
    const zView = sc.z.subarray(0, n * S);
    gemm(new Tensor("f32", [n, d], xc.subarray(r0 * d, (r0 + n) * d)), wEncT, { transB: true, out: new Tensor("f32", [n, S], zView) });
    for (let r = 0; r < n; r++) {
      const off = r * S;
      for (let j = 0; j < S; j++) zView[off + j]! += p.bEnc[j]!;
      sc.topSel.selectRow(zView, off, S, k, sc.topIdx, sc.topVal, (r0 + r) * k);
      if (kAux > 0) sc.auxSel.selectAmong(zView, off, sc.deadList, numDead, kAux, sc.auxIdx, sc.auxVal, (r0 + r) * kAux);
    }
  }

  // Sparse decode, residual, FVU.
  const e = sc.e;
  let sumE2 = 0, evSum = 0, active = 0;
  for (let b = 0; b < B; b++) {
    const o = b * d;
    for (let i = 0; i < d; i++) e[o + i] = xs[o + i]! - p.bDec[i]!;
    for (let c = b * k; c < (b + 1) * k; c++) {
      const a = sc.topVal[c]!;
      if (!(a > 0)) continue;
      active++;
      const w = sc.topIdx[c]! * d;
      for (let i = 0; i < d; i++) e[o + i] = e[o + i]! - a * p.wDec[w + i]!;
    }
    let s = 0;
    for (let i = 0; i < d; i++) s += e[o + i]! * e[o + i]!;
    sumE2 += s;
    evSum += tokVar[b]! > 0 ? 1 - s / tokVar[b]! : 0;
  }

  // AuxK: dead latents predict the residual.
  const rAux = sc.r;
  let sumR2 = 0;
  if (kAux > 0) {
    for (let b = 0; b < B; b++) {
      const o = b * d;
      for (let i = 0; i < d; i++) rAux[o + i] = -e[o + i]!;
      for (let c = b * kAux; c < (b + 1) * kAux; c++) {
        const a = sc.auxVal[c]!;
        if (!(a > 0)) continue;
        const w = sc.auxIdx[c]! * d;
        for (let i = 0; i < d; i++) rAux[o + i] = rAux[o + i]! + a * p.wDec[w + i]!;
      }
      for (let i = 0; i < d; i++) sumR2 += rAux[o + i]! * rAux[o + i]!;
    }
  }
  const fvu = sumE2 / totalVar;
  const auxkLoss = kAux > 0 ? (auxScale * sumR2) / totalVar : 0;
  const loss = fvu + cfg.auxkCoef * auxkLoss;

  // Backward. dL/dx̂ = −2e/TV (stored into e), dL/dê = 2·coef·s·r/TV (stored into r).
  const gE = -2 / totalVar;
  for (let i = 0; i < B * d; i++) e[i] = e[i]! * gE;
  const gR = (2 * cfg.auxkCoef * auxScale) / totalVar;
  if (kAux > 0) for (let i = 0; i < B * d; i++) rAux[i] = rAux[i]! * gR;
  const { gWEnc, gWDec, gBEnc, gBDec, touched } = sc;
  gBDec.fill(0);
  for (let b = 0; b < B; b++) for (let i = 0; i < d; i++) gBDec[i]! += e[b * d + i]!;
  backwardPairs(B, k, d, sc.topIdx, sc.topVal, e, xc, p.wDec, gWDec, gWEnc, gBEnc, touched);
  if (kAux > 0) backwardPairs(B, kAux, d, sc.auxIdx, sc.auxVal, rAux, xc, p.wDec, gWDec, gWEnc, gBEnc, touched);
  // bDec also enters the encoder through (x − bDec): dL/dbDec −= Σⱼ dL/dbEncⱼ · Wencⱼ.
  for (let j = 0; j < S; j++) {
    if (!touched[j]) continue;
    const gb = gBEnc[j]!;
    if (gb === 0) continue;
    const w = j * d;
    for (let i = 0; i < d; i++) gBDec[i] = gBDec[i]! - gb * p.wEnc[w + i]!;
  }
  return { loss, fvu, mse: sumE2 / (B * d), explainedVariance: evSum / B, auxkLoss, l0: active / B, numDead };
}

/** Decoder-gradient projection, Adam, decoder renormalisation; clears the gradients. Returns the lr used. */
export function applyUpdate(state: TrainState, cfg: SaeTrainConfig, sc: StepScratch): number {
  const { dIn: d, dSae: S } = cfg;
  const p = state.params;
  const { gWEnc, gWDec, gBEnc, gBDec, touched } = sc;
  // Remove the gradient component parallel to each (unit) decoder row.
  for (let j = 0; j < S; j++) {
    if (!touched[j]) continue;
    const w = j * d;
    let dot = 0;
    for (let i = 0; i < d; i++) dot += gWDec[w + i]! * p.wDec[w + i]!;
    for (let i = 0; i < d; i++) gWDec[w + i] = gWDec[w + i]! - dot * p.wDec[w + i]!;
  }

  // Adam (dense), then unit-norm decoder rows.
  const t = state.adamT + 1;
  const lr = lrAt(cfg, state.step + 1);
  const h: AdamHyper = { lr, beta1: cfg.adamBeta1, beta2: cfg.adamBeta2, eps: cfg.adamEps, t };
  adamUpdateRows(p.wEnc, gWEnc, state.adamM.wEnc, state.adamV.wEnc, d, touched, h);
  adamUpdateRows(p.wDec, gWDec, state.adamM.wDec, state.adamV.wDec, d, touched, h);
  adamUpdate(p.bEnc, gBEnc, state.adamM.bEnc, state.adamV.bEnc, h);
  adamUpdate(p.bDec, gBDec, state.adamM.bDec, state.adamV.bDec, h);
  normalizeRows(p.wDec, d);
  gBEnc.fill(0);
  touched.fill(0);
  state.adamT = t;
  state.step += 1;
  return lr;
}

/** Firing statistics, after the step (sparsify updates them after the forward pass). */
export function recordFiring(state: TrainState, cfg: SaeTrainConfig, rows: number, sc: StepScratch): void {
  const { dSae: S, k } = cfg;
  const B = rows;
  for (let j = 0; j < S; j++) state.sinceFired[j]! += B;
  for (let c = 0; c < B * k; c++) {
    if (sc.topVal[c]! > 0) {
      const j = sc.topIdx[c]!;
      state.sinceFired[j] = 0;
      state.fireCounts[j]! += 1;
    }
  }
  state.tokensSeen += B;
  state.windowTokens += B;
}

/**
 * Backward through the (token, latent) pairs of one sparse decode: for each pair with value a > 0
 * and upstream gradient g (dL/d output row): dWdec_j += a·g, dz = g·Wdec_j, dWenc_j += dz·xc,
 * dbEnc_j += dz. Reads Wdec before the update.
 */
function backwardPairs(B: number, kk: number, d: number, idx: Int32Array, val: Float32Array, g: Float32Array, xc: Float32Array, wDec: Float32Array, gWDec: Float32Array, gWEnc: Float32Array, gBEnc: Float32Array, touched: Uint8Array): void {
  for (let b = 0; b < B; b++) {
    const o = b * d;
    for (let c = b * kk; c < (b + 1) * kk; c++) {
      const a = val[c]!;
      if (!(a > 0)) continue;
      const j = idx[c]!;
      const w = j * d;
      touched[j] = 1;
      let dz = 0;
      for (let i = 0; i < d; i++) {
        const gi = g[o + i]!;
        dz += gi * wDec[w + i]!;
        gWDec[w + i] = gWDec[w + i]! + a * gi;
      }
      gBEnc[j] = gBEnc[j]! + dz;
      for (let i = 0; i < d; i++) gWEnc[w + i] = gWEnc[w + i]! + dz * xc[o + i]!;
    }
  }
}
