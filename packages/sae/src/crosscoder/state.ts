import type { Rng } from "@difflens/tensor";
import { newTrainState, PARAM_NAMES, type ParamName, type TrainParams } from "../train/train-state.ts";
import type { CrosscoderTrainConfig } from "./config.ts";

/**
 * Crosscoder parameters in training space. The two models are concatenated along the feature axis: row j of wEnc
 * and wDec is [base half | chat half] (2·dIn values), so a [dSae, 2·dIn] matrix has the bytes of the saved
 * [dSae, 2, dIn] tensor and the SAE kernels run on it unchanged (latent j reads both models and writes both).
 */
export type CrosscoderParams = TrainParams; // wEnc, wDec [dSae, 2·dIn]; bEnc [dSae]; bDec [2·dIn]: base then chat
export type CrosscoderParamName = ParamName;
export const CROSSCODER_PARAM_NAMES: readonly CrosscoderParamName[] = PARAM_NAMES;

/** Everything a step reads and writes; checkpointed whole for exact resume. */
export interface CrosscoderTrainState {
  params: CrosscoderParams;
  adamM: CrosscoderParams;
  adamV: CrosscoderParams;
  step: number;
  adamT: number;
  tokensSeen: number;
  batchesSeen: number;
  /** [dSae] tokens since each latent was last selected (float64: counts pass 2^24). */
  sinceFired: Float64Array;
  /** [dSae] selections since the last metrics log. */
  fireCounts: Float64Array;
  windowTokens: number;
  /** BatchTopK inference threshold on the score a·(‖d^base‖ + ‖d^chat‖), training space; null before step 1. */
  threshold: number | null;
  /** One scale for both models' inputs (1 = none). */
  inputScale: number;
  rng: Rng;
}

export function newCrosscoderTrainState(
  params: CrosscoderParams,
  cfg: Pick<CrosscoderTrainConfig, "dSae">,
  rng: Rng,
  inputScale = 1,
): CrosscoderTrainState {
  return { ...newTrainState(params, cfg, rng, inputScale), threshold: null };
}

/**
 * Initial weights: each model's half of a decoder row is Gaussian, scaled to norm `decoderInitNorm` (equal norms:
 * every latent starts shared); the encoder starts equal to the decoder; zero encoder bias; bDec given.
 */
export function initCrosscoderParams(
  cfg: Pick<CrosscoderTrainConfig, "dIn" | "dSae" | "decoderInitNorm">,
  rng: Rng,
  bDec: Float32Array,
): CrosscoderParams {
  const { dIn: d, dSae: S } = cfg;
  const wDec = new Float32Array(S * 2 * d);
  for (let i = 0; i < wDec.length; i++) wDec[i] = rng.normal();
  for (let o = 0; o < wDec.length; o += d) {
    let ss = 0;
    for (let i = o; i < o + d; i++) ss += wDec[i]! * wDec[i]!;
    const f = cfg.decoderInitNorm / Math.sqrt(ss);
    for (let i = o; i < o + d; i++) wDec[i] = wDec[i]! * f;
  }
  return { wEnc: wDec.slice(), bEnc: new Float32Array(S), wDec, bDec: bDec.slice() };
}

/** Per latent: ‖d^base‖ and ‖d^chat‖ of wDec [dSae, 2·dIn] (float64 sums, f32 results). */
export function decoderNorms(wDec: Float32Array, dIn: number): { base: Float32Array; chat: Float32Array } {
  const S = wDec.length / (2 * dIn);
  const base = new Float32Array(S),
    chat = new Float32Array(S);
  for (let j = 0; j < S; j++) {
    const o = j * 2 * dIn;
    let sb = 0,
      sc = 0;
    for (let i = 0; i < dIn; i++) {
      sb += wDec[o + i]! * wDec[o + i]!;
      sc += wDec[o + dIn + i]! * wDec[o + dIn + i]!;
    }
    base[j] = Math.sqrt(sb);
    chat[j] = Math.sqrt(sc);
  }
  return { base, chat };
}
