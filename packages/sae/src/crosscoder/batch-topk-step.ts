import { biasTopK, gemm, mul, sparseCodesBackward, sparseDecode } from "@difflens/tensor";
import { activationsFromSelection, selectAcrossBatch } from "./batch-topk.ts";
import { type CrosscoderTrainConfig, crosscoderKAux } from "./config.ts";
import { type CrosscoderTrainState, decoderNorms } from "./state.ts";
import {
  applyCrosscoderUpdate,
  type CrosscoderGrads,
  type CrosscoderStepStats,
  concatScaled,
  f32,
  i32,
  recordSelections,
  residualSums,
} from "./step-common.ts";

/**
 * One BatchTopK crosscoder step (Minder, Dumas et al. 2025, with BatchTopK from Bussmann et al. 2024) with a
 * hand-written sparse backward on the SAE kernels. The models are concatenated: X = [x_base | x_chat]·scale.
 *
 *   z = X·Wencᵀ + bEnc,  f = ReLU(z)                      one dense GEMM (the only O(batch·2dIn·dSae) work)
 *   score_j = f_j·n_j,  n_j = ‖d_j^base‖ + ‖d_j^chat‖      latents with small decoders must fire harder to be chosen
 *   a = f on the batch·k best positive scores of the whole batch (the selection is a constant for the gradient)
 *   X̂ = a·Wdec + bDec,  e = X − X̂,  FVU = Σ‖e‖² / Σ‖X − X̄‖²
 *   AuxK = s·Σ‖ê − e‖² / Σ‖X − X̄‖², ê = Σ over each row's kAux best-scored dead latents of f_j·Wdec_j (e constant)
 *   loss = FVU + auxkCoef·AuxK;  θ ← decay·θ + (1 − decay)·(smallest selected score)   (inference threshold)
 *
 * Scores come from the GEMM output scaled by n (the `mul` kernel) and biasTopK with bias n⊙bEnc, which ranks
 * n_j·(z_j + bEnc_j) = score_j; a = score / n. Each row keeps candidateFactor·k candidates; rows that fill theirs
 * are searched again wider (see batch-topk.ts), so the selection is exact.
 */
export class CrosscoderScratch {
  rows = 0;
  width = 0;
  x = new Float32Array(0);
  z = new Float32Array(0);
  candIdx = new Int32Array(0);
  candVal = new Float32Array(0);
  auxIdx = new Int32Array(0);
  auxVal = new Float32Array(0);
  e = new Float32Array(0);
  r = new Float32Array(0);
  norms = new Float32Array(0);
  scaledBias = new Float32Array(0);
  deadList = new Int32Array(0);
  grads: CrosscoderGrads = {
    gWEnc: new Float32Array(0),
    gWDec: new Float32Array(0),
    gBEnc: new Float32Array(0),
    gBDec: new Float32Array(0),
    touched: new Uint8Array(0),
  };

  ensure(rows: number, cfg: CrosscoderTrainConfig, width: number): void {
    const S = cfg.dSae,
      w = 2 * cfg.dIn,
      kAux = crosscoderKAux(cfg);
    if (this.grads.gWEnc.length !== S * w) {
      this.grads = {
        gWEnc: new Float32Array(S * w),
        gWDec: new Float32Array(S * w),
        gBEnc: new Float32Array(S),
        gBDec: new Float32Array(w),
        touched: new Uint8Array(S),
      };
      this.norms = new Float32Array(S);
      this.scaledBias = new Float32Array(S);
      this.deadList = new Int32Array(S);
      this.rows = 0;
    }
    if (rows > this.rows || width !== this.width || this.auxIdx.length !== this.rows * kAux) {
      this.rows = Math.max(rows, this.rows);
      this.width = width;
      const n = this.rows;
      this.x = new Float32Array(n * w);
      this.z = new Float32Array(Math.min(n, CHUNK_ROWS) * S);
      this.candIdx = new Int32Array(n * width);
      this.candVal = new Float32Array(n * width);
      this.auxIdx = new Int32Array(n * kAux);
      this.auxVal = new Float32Array(n * kAux);
      this.e = new Float32Array(n * w);
      this.r = new Float32Array(n * w);
    }
  }
}

/** Rows per encoder GEMM: bounds the [rows, dSae] score buffer. */
const CHUNK_ROWS = 512;

/** Runs one step on paired batches base, chat [rows, dIn] (raw activations) and updates `state` in place. */
export function batchTopKCrosscoderStep(
  state: CrosscoderTrainState,
  cfg: CrosscoderTrainConfig,
  base: Float32Array,
  chat: Float32Array,
  rows: number,
  sc: CrosscoderScratch,
): CrosscoderStepStats {
  const { dIn, dSae: S, k } = cfg;
  const w = 2 * dIn,
    B = rows;
  let width = Math.min(S, Math.max(k, Math.ceil(cfg.candidateFactor * k)));
  sc.ensure(B, cfg, width);
  const p = state.params;
  const variance = concatScaled(base, chat, B, dIn, state.inputScale, sc.x);
  const X = sc.x.subarray(0, B * w);

  // Combined decoder norms (the score's weight) and the bias in score space.
  const half = decoderNorms(p.wDec, dIn);
  for (let j = 0; j < S; j++) {
    sc.norms[j] = half.base[j]! + half.chat[j]!;
    sc.scaledBias[j] = Math.fround(sc.norms[j]! * p.bEnc[j]!);
  }
  let numDead = 0;
  for (let j = 0; j < S; j++) if (state.sinceFired[j]! > cfg.deadAfterTokens) sc.deadList[numDead++] = j;
  const kAuxCfg = crosscoderKAux(cfg);
  const kAux = Math.min(kAuxCfg, numDead);
  const auxScale = numDead > 0 ? Math.min(numDead / kAuxCfg, 1) : 0;

  // Encoder GEMM per chunk of rows, scaled to scores, then per-row candidates (and AuxK picks among dead latents).
  const wEncT = f32([S, w], p.wEnc),
    wDecT = f32([S, w], p.wDec),
    normsT = f32([S], sc.norms),
    biasT = f32([S], sc.scaledBias);
  const dead = i32([numDead], sc.deadList.subarray(0, numDead));
  const scoreRows = (r0: number, n: number, kk: number, idx: Int32Array, val: Float32Array, withAux: boolean) => {
    const z = f32([n, S], sc.z.subarray(0, n * S)); // [n, dSae]
    gemm(f32([n, w], X.subarray(r0 * w, (r0 + n) * w)), wEncT, { transB: true, out: z });
    mul(z, normsT, z);
    const among =
      withAux && kAux > 0
        ? {
            candidates: dead,
            k: kAux,
            values: f32([n, kAux], sc.auxVal.subarray(r0 * kAux, (r0 + n) * kAux)),
            indices: i32([n, kAux], sc.auxIdx.subarray(r0 * kAux, (r0 + n) * kAux)),
          }
        : undefined;
    biasTopK(z, biasT, kk, { values: f32([n, kk], val), indices: i32([n, kk], idx) }, among);
  };
  let candIdx = sc.candIdx.subarray(0, B * width),
    candVal = sc.candVal.subarray(0, B * width);
  for (let r0 = 0; r0 < B; r0 += CHUNK_ROWS) {
    const n = Math.min(CHUNK_ROWS, B - r0);
    const span = [r0 * width, (r0 + n) * width] as const;
    scoreRows(r0, n, width, candIdx.subarray(...span), candVal.subarray(...span), true);
  }

  // Batch-wide selection; widen rows that filled their candidate list until none does.
  const m = B * k;
  let sel = selectAcrossBatch(candVal, B, width, m, S);
  while (sel.saturated.length > 0) {
    const wider = Math.min(S, width * 2);
    const idx2 = new Int32Array(B * wider),
      val2 = new Float32Array(B * wider).fill(Number.NEGATIVE_INFINITY);
    for (let r = 0; r < B; r++) {
      idx2.set(candIdx.subarray(r * width, (r + 1) * width), r * wider);
      val2.set(candVal.subarray(r * width, (r + 1) * width), r * wider);
    }
    for (const r of sel.saturated)
      scoreRows(
        r,
        1,
        wider,
        idx2.subarray(r * wider, (r + 1) * wider),
        val2.subarray(r * wider, (r + 1) * wider),
        false,
      );
    width = wider;
    candIdx = idx2;
    candVal = val2;
    sel = selectAcrossBatch(candVal, B, width, m, S);
  }

  activationsFromSelection(candIdx, candVal, sel.counts, width, sc.norms);
  for (let c = 0; c < B * kAux; c++) {
    const j = sc.auxIdx[c]!;
    const v = sc.auxVal[c]!;
    sc.auxVal[c] = v > 0 && sc.norms[j]! > 0 ? Math.fround(v / sc.norms[j]!) : 0;
  }
  const topIdx = i32([B, width], candIdx),
    topVal = f32([B, width], candVal);
  const auxIdx = i32([B, kAux], sc.auxIdx.subarray(0, B * kAux)),
    auxVal = f32([B, kAux], sc.auxVal.subarray(0, B * kAux));

  // Decode, residual, FVU; backward of the reconstruction: dL/dX̂ = −2e/TV into e, summed into dL/dbDec.
  const e = sc.e.subarray(0, B * w);
  for (let r = 0; r < B; r++) for (let i = 0; i < w; i++) e[r * w + i] = X[r * w + i]! - p.bDec[i]!;
  const eT = f32([B, w], e);
  sparseDecode(eT, topIdx, topVal, wDecT, -1);
  const sums = residualSums(e, B, dIn);
  const sumE2 = sums.base + sums.chat;
  const rAux = sc.r.subarray(0, B * w);
  if (kAux > 0) for (let i = 0; i < B * w; i++) rAux[i] = -e[i]!;
  const g = sc.grads;
  const gE = -2 / variance.total;
  for (let r = 0; r < B; r++) {
    for (let i = 0; i < w; i++) {
      const v = Math.fround(e[r * w + i]! * gE);
      e[r * w + i] = v;
      g.gBDec[i]! += v;
    }
  }
  let sumR2 = 0;
  if (kAux > 0) {
    const gR = (2 * cfg.auxkCoef * auxScale) / variance.total;
    sparseDecode(f32([B, w], rAux), auxIdx, auxVal, wDecT, 1);
    for (let i = 0; i < B * w; i++) {
      const v = rAux[i]!;
      sumR2 += v * v;
      rAux[i] = v * gR;
    }
  }
  const fvu = sumE2 / variance.total;
  const auxkLoss = kAux > 0 ? (auxScale * sumR2) / variance.total : 0;

  const grads = {
    table: f32([S, w], g.gWDec),
    encoder: f32([S, w], g.gWEnc),
    bias: f32([S], g.gBEnc),
    touched: g.touched,
  };
  const xT = f32([B, w], X);
  sparseCodesBackward(topIdx, topVal, eT, xT, wDecT, grads);
  if (kAux > 0) sparseCodesBackward(auxIdx, auxVal, f32([B, w], rAux), xT, wDecT, grads);

  if (sel.selected > 0) {
    const d = cfg.thresholdDecay;
    state.threshold = state.threshold === null ? sel.minSelected : d * state.threshold + (1 - d) * sel.minSelected;
  }
  const lr = applyCrosscoderUpdate(state, cfg, g);
  recordSelections(state, B, candIdx, candVal, B * width);
  return {
    loss: fvu + cfg.auxkCoef * auxkLoss,
    fvu,
    fvuBase: sums.base / variance.base,
    fvuChat: sums.chat / variance.chat,
    mse: sumE2 / (B * w),
    l1Loss: 0,
    auxkLoss,
    l0: sel.selected / B,
    numDead,
    threshold: state.threshold,
    lr,
  };
}
