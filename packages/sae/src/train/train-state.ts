import { largeFloat32Array, largeFloat32Copy, type Rng } from "@difflens/tensor";
import type { SaeTrainConfig } from "./config.ts";

/** Parameters in training space (inputs multiplied by `inputScale`). Layouts as in SaeWeights. */
export interface TrainParams {
  /** [dSae, dIn] */ wEnc: Float32Array;
  /** [dSae] */ bEnc: Float32Array;
  /** [dSae, dIn] */ wDec: Float32Array;
  /** [dIn] */ bDec: Float32Array;
}
export type ParamName = keyof TrainParams;
export const PARAM_NAMES: readonly ParamName[] = ["wEnc", "bEnc", "wDec", "bDec"];

/** Everything a step reads and writes; checkpointed whole for exact resume. */
export interface TrainState {
  params: TrainParams;
  /** Adam first moments, same shapes as params. */
  adamM: TrainParams;
  /** Adam second moments. */
  adamV: TrainParams;
  /** Steps taken in this run (drives the learning-rate schedule). */
  step: number;
  /** Adam's step count t (continues across a finetune that keeps the optimizer state). */
  adamT: number;
  /** Tokens consumed by optimizer steps. */
  tokensSeen: number;
  /** Batches read from the source (data position for resume). */
  batchesSeen: number;
  /** [dSae] tokens since each latent last fired (float64: counts pass 2^24). */
  sinceFired: Float64Array;
  /** [dSae] firings since the last metrics log (density histogram). */
  fireCounts: Float64Array;
  /** Tokens since the last metrics log. */
  windowTokens: number;
  /** Inputs are multiplied by this before the SAE sees them (1 = no normalisation). */
  inputScale: number;
  rng: Rng;
}

/** Zero arrays of the same lengths (Adam moments); the matrices in large-page memory (largeFloat32Array). */
export function zerosLike(p: TrainParams): TrainParams {
  return {
    wEnc: largeFloat32Array(p.wEnc.length),
    bEnc: new Float32Array(p.bEnc.length),
    wDec: largeFloat32Array(p.wDec.length),
    bDec: new Float32Array(p.bDec.length),
  };
}

/** Fresh optimizer moments and counters around the given parameters. */
export function newTrainState(
  params: TrainParams,
  cfg: Pick<SaeTrainConfig, "dSae">,
  rng: Rng,
  inputScale = 1,
): TrainState {
  return {
    params,
    adamM: zerosLike(params),
    adamV: zerosLike(params),
    step: 0,
    adamT: 0,
    tokensSeen: 0,
    batchesSeen: 0,
    sinceFired: new Float64Array(cfg.dSae),
    fireCounts: new Float64Array(cfg.dSae),
    windowTokens: 0,
    inputScale,
    rng,
  };
}

/**
 * Initial weights: decoder rows Gaussian then unit-normalised, encoder = decoder (W_enc = W_decᵀ in
 * SAELens orientation), zero encoder bias, bDec given (geometric median of a sample).
 */
export function initParams(dIn: number, dSae: number, rng: Rng, bDec: Float32Array): TrainParams {
  const wDec = largeFloat32Array(dSae * dIn);
  for (let i = 0; i < wDec.length; i++) wDec[i] = rng.normal();
  normalizeRows(wDec, dIn);
  return { wEnc: largeFloat32Copy(wDec), bEnc: new Float32Array(dSae), wDec, bDec: bDec.slice() };
}

/** Rows to unit norm, as sparsify does: w / (‖w‖ + ε_f32). */
export function normalizeRows(w: Float32Array, cols: number): void {
  const eps = 1.1920928955078125e-7;
  for (let o = 0; o < w.length; o += cols) {
    let ss = 0;
    for (let i = o; i < o + cols; i++) ss += w[i]! * w[i]!;
    const inv = 1 / (Math.sqrt(ss) + eps);
    for (let i = o; i < o + cols; i++) w[i] = w[i]! * inv;
  }
}

/** A deep copy of the four parameter arrays. */
export function copyParams(p: TrainParams): TrainParams {
  return { wEnc: p.wEnc.slice(), bEnc: p.bEnc.slice(), wDec: p.wDec.slice(), bDec: p.bDec.slice() };
}

/** The optimizer progress a checkpoint holds (SAE and crosscoder checkpoints alike). */
export interface SavedProgress {
  readonly adamM: TrainParams;
  readonly adamV: TrainParams;
  readonly state: {
    readonly step: number;
    readonly adamT: number;
    readonly tokensSeen: number;
    readonly batchesSeen: number;
    readonly windowTokens: number;
    readonly sinceFired: readonly number[];
    readonly fireCounts: readonly number[];
  };
}

/** Resume: a fresh train state (made from the checkpoint's parameters) takes the checkpoint's optimizer progress. */
export function restoreProgress(state: TrainState, saved: SavedProgress): void {
  const s = saved.state;
  Object.assign(state, {
    adamM: saved.adamM,
    adamV: saved.adamV,
    step: s.step,
    adamT: s.adamT,
    tokensSeen: s.tokensSeen,
    batchesSeen: s.batchesSeen,
    windowTokens: s.windowTokens,
  });
  state.sinceFired.set(s.sinceFired);
  state.fireCounts.set(s.fireCounts);
}
