import { type AdamHyperparameters, adamUpdate, Tensor } from "@difflens/tensor";
import { recordFiringOf } from "../train/sparse-step.ts";
import { type CrosscoderTrainConfig, crosscoderLrAt } from "./config.ts";
import type { CrosscoderParams, CrosscoderTrainState } from "./state.ts";

/** What one crosscoder step reports (both kinds; BatchTopK-only fields are 0 / null for L1). */
export interface CrosscoderStepStats {
  loss: number;
  /** Σ‖e‖² / Σ‖X − X̄‖² over both models. */
  fvu: number;
  fvuBase: number;
  fvuChat: number;
  /** Mean squared error per element (both models), training space. */
  mse: number;
  /** L1: λ-weighted sparsity term of the loss. */
  l1Loss: number;
  auxkLoss: number;
  /** Mean active latents per row. */
  l0: number;
  numDead: number;
  /** BatchTopK running threshold after this step (training space). */
  threshold: number | null;
  lr: number;
}

/** Gradient buffers shared by both kinds of step. */
export interface CrosscoderGrads {
  gWEnc: Float32Array;
  gWDec: Float32Array;
  gBEnc: Float32Array;
  gBDec: Float32Array;
  /** Rows of gWEnc / gWDec that may be nonzero (all 1 for L1). */
  touched: Uint8Array;
}

export const f32 = (shape: number[], data: Float32Array): Tensor<"f32"> => new Tensor("f32", shape, data);
export const i32 = (shape: number[], data: Int32Array): Tensor<"i32"> => new Tensor("i32", shape, data);

/** Per-model and total variance of X around the batch mean (float64). */
export interface BatchVariance {
  total: number;
  base: number;
  chat: number;
}

/**
 * Writes X = [base | chat]·scale into `x` [rows, 2·dIn] (f32) and returns the variances the losses divide by.
 */
export function concatScaled(
  base: Float32Array,
  chat: Float32Array,
  rows: number,
  dIn: number,
  scale: number,
  x: Float32Array,
): BatchVariance {
  const w = 2 * dIn;
  const mean = new Float64Array(w);
  for (let r = 0; r < rows; r++) {
    const o = r * w,
      s = r * dIn;
    for (let i = 0; i < dIn; i++) {
      const vb = Math.fround(base[s + i]! * scale),
        vc = Math.fround(chat[s + i]! * scale);
      x[o + i] = vb;
      x[o + dIn + i] = vc;
      mean[i]! += vb;
      mean[dIn + i]! += vc;
    }
  }
  for (let i = 0; i < w; i++) mean[i]! /= rows;
  let vb = 0,
    vc = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * w;
    for (let i = 0; i < dIn; i++) {
      vb += (x[o + i]! - mean[i]!) ** 2;
      vc += (x[o + dIn + i]! - mean[dIn + i]!) ** 2;
    }
  }
  return { total: vb + vc, base: vb, chat: vc };
}

/** Σ‖e‖² split by model over e [rows, 2·dIn]. */
export function residualSums(e: Float32Array, rows: number, dIn: number): { base: number; chat: number } {
  let sb = 0,
    sc = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * 2 * dIn;
    for (let i = 0; i < dIn; i++) sb += e[o + i]! * e[o + i]!;
    for (let i = dIn; i < 2 * dIn; i++) sc += e[o + i]! * e[o + i]!;
  }
  return { base: sb, chat: sc };
}

/**
 * Adam (dense semantics, as torch: rows without gradient still decay their moments and move) on all four
 * parameters; no decoder projection or renormalisation — the decoder norms are what model diffing reads. Clears the
 * gradients. Returns the learning rate used.
 */
export function applyCrosscoderUpdate(
  state: CrosscoderTrainState,
  cfg: CrosscoderTrainConfig,
  g: CrosscoderGrads,
): number {
  const S = cfg.dSae,
    w = 2 * cfg.dIn;
  const t = state.adamT + 1;
  const lr = crosscoderLrAt(cfg, state.step + 1);
  const h: AdamHyperparameters = { lr, beta1: cfg.adamBeta1, beta2: cfg.adamBeta2, eps: cfg.adamEps, t };
  const p = state.params,
    m = state.adamM,
    v = state.adamV;
  const each = (name: keyof CrosscoderParams, grad: Float32Array, shape: number[], rowMask?: Uint8Array) =>
    adamUpdate(f32(shape, p[name]), f32(shape, grad), f32(shape, m[name]), f32(shape, v[name]), h, {
      clearGrad: true,
      ...(rowMask ? { rowMask } : {}),
    });
  each("wEnc", g.gWEnc, [S, w], g.touched);
  each("wDec", g.gWDec, [S, w], g.touched);
  each("bEnc", g.gBEnc, [S]);
  each("bDec", g.gBDec, [w]);
  g.gBEnc.fill(0);
  g.gBDec.fill(0);
  g.touched.fill(0);
  state.adamT = t;
  state.step += 1;
  return lr;
}

/** Firing statistics after a step from the selected (index, activation) pairs [rows, width]. */
export function recordSelections(
  state: CrosscoderTrainState,
  rows: number,
  idx: Int32Array,
  val: Float32Array,
  count: number,
): void {
  recordFiringOf(state, rows, [{ indices: idx.subarray(0, count), values: val.subarray(0, count) }]);
}
