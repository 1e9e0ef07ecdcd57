import { SaeError } from "../errors.ts";
import { checkKeys, enumField, numberField, stringField } from "../resolve-config.ts";
import { DEFAULT_SAE_TRAIN_CONFIG, lrAt, peakLr } from "../train/config.ts";

/** Which sparsity a crosscoder trains with. */
export type CrosscoderKind = "batchtopk" | "l1";

/**
 * Everything that defines a crosscoder training run on two models' activations at one hook (base and chat, each
 * [rows, dIn]). Frozen defaults in DEFAULT_CROSSCODER_TRAIN_CONFIG; schedule and Adam fields mean what they mean in
 * SaeTrainConfig.
 */
export interface CrosscoderTrainConfig {
  /** Width of each model's activations. Required. */
  dIn: number;
  /** Latents in the shared dictionary. Required. */
  dSae: number;
  kind: CrosscoderKind;
  /** BatchTopK: mean active latents per row (the batch keeps batch·k). */
  k: number;
  /**
   * BatchTopK: candidates kept per row before the batch-wide selection, as a multiple of k. A row that fills all of
   * its candidates is searched again with more, so this changes speed only, never the result.
   */
  candidateFactor: number;
  /** BatchTopK: decay of the running inference threshold (θ ← decay·θ + (1 − decay)·min selected score). */
  thresholdDecay: number;
  /** L1: weight λ of Σⱼ aⱼ·(‖dⱼ^base‖ + ‖dⱼ^chat‖). */
  l1Coef: number;
  /** Peak learning rate; null = 2e-4 / √(dSae / 2^14) as for SAEs. */
  lr: number | null;
  adamBeta1: number;
  adamBeta2: number;
  adamEps: number;
  lrWarmupSteps: number;
  lrDecaySteps: number;
  lrEndFraction: number;
  maxSteps: number | null;
  /** BatchTopK AuxK width per row; null = floor(dIn / 2). */
  kAux: number | null;
  auxkCoef: number;
  deadAfterTokens: number;
  /**
   * "unit-mean-squared-norm": one scale for both models (the concatenated rows get unit mean squared norm), so the
   * ratio of the two decoder norms keeps its meaning. Folded into the saved weights.
   */
  normalizeActivations: "none" | "unit-mean-squared-norm";
  /** Norm of each model's half of a decoder row at initialisation (the encoder starts equal to the decoder). */
  decoderInitNorm: number;
  initSampleTokens: number;
  geometricMedianIters: number;
  seed: number;
  checkpointEverySteps: number;
  keepCheckpoints: number;
  logEverySteps: number;
  hookName: string | null;
}

export const DEFAULT_CROSSCODER_TRAIN_CONFIG: Readonly<Omit<CrosscoderTrainConfig, "dIn" | "dSae">> = Object.freeze({
  kind: "batchtopk",
  k: 32,
  candidateFactor: 4,
  thresholdDecay: 0.999,
  l1Coef: 1,
  lr: null,
  adamBeta1: 0.9,
  adamBeta2: 0.999,
  adamEps: 6.25e-10,
  lrWarmupSteps: 1000,
  lrDecaySteps: 0,
  lrEndFraction: 0,
  maxSteps: null,
  kAux: null,
  auxkCoef: 1 / 32,
  deadAfterTokens: 10_000_000,
  normalizeActivations: "none",
  decoderInitNorm: 0.5,
  initSampleTokens: 32768,
  geometricMedianIters: 100,
  seed: 0,
  checkpointEverySteps: 1000,
  keepCheckpoints: 1,
  logEverySteps: 100,
  hookName: null,
});

const KEYS = ["dIn", "dSae", ...Object.keys(DEFAULT_CROSSCODER_TRAIN_CONFIG)];

/** Validates a crosscoder training config: unknown keys are rejected with the nearest valid key suggested. */
export function resolveCrosscoderTrainConfig(input: unknown): Readonly<CrosscoderTrainConfig> {
  const C = "CrosscoderTrainConfig";
  const rec = checkKeys(C, input, KEYS);
  const D = DEFAULT_CROSSCODER_TRAIN_CONFIG;
  if (rec.dIn === undefined || rec.dSae === undefined) {
    throw new SaeError("CONFIG_INVALID", `${C}: dIn and dSae are required`, {
      field: rec.dIn === undefined ? "dIn" : "dSae",
    });
  }
  const dIn = numberField(C, rec, "dIn", null, { int: true, min: 1 })!;
  const dSae = numberField(C, rec, "dSae", null, { int: true, min: 1 })!;
  const num = (key: keyof typeof D, check: Parameters<typeof numberField>[4]) =>
    numberField(C, rec, key, D[key] as number | null, check);
  const cfg: CrosscoderTrainConfig = {
    dIn,
    dSae,
    kind: enumField(C, rec, "kind", D.kind, ["batchtopk", "l1"] as const),
    k: num("k", { int: true, min: 1, max: dSae })!,
    candidateFactor: num("candidateFactor", { min: 1 })!,
    thresholdDecay: num("thresholdDecay", { min: 0, max: 1 })!,
    l1Coef: num("l1Coef", { min: 0 })!,
    lr: num("lr", { minExclusive: 0, nullable: true }),
    adamBeta1: num("adamBeta1", { min: 0, max: 0.999999 })!,
    adamBeta2: num("adamBeta2", { min: 0, max: 0.99999999 })!,
    adamEps: num("adamEps", { minExclusive: 0 })!,
    lrWarmupSteps: num("lrWarmupSteps", { int: true, min: 0 })!,
    lrDecaySteps: num("lrDecaySteps", { int: true, min: 0 })!,
    lrEndFraction: num("lrEndFraction", { min: 0, max: 1 })!,
    maxSteps: num("maxSteps", { int: true, min: 1, nullable: true }),
    kAux: num("kAux", { int: true, min: 1, max: dSae, nullable: true }),
    auxkCoef: num("auxkCoef", { min: 0 })!,
    deadAfterTokens: num("deadAfterTokens", { int: true, min: 1 })!,
    normalizeActivations: enumField(C, rec, "normalizeActivations", D.normalizeActivations, [
      "none",
      "unit-mean-squared-norm",
    ] as const),
    decoderInitNorm: num("decoderInitNorm", { minExclusive: 0 })!,
    initSampleTokens: num("initSampleTokens", { int: true, min: 1 })!,
    geometricMedianIters: num("geometricMedianIters", { int: true, min: 0 })!,
    seed: num("seed", { int: true, min: 0 })!,
    checkpointEverySteps: num("checkpointEverySteps", { int: true, min: 0 })!,
    keepCheckpoints: num("keepCheckpoints", { int: true, min: 0 })!,
    logEverySteps: num("logEverySteps", { int: true, min: 1 })!,
    hookName: stringField(C, rec, "hookName", D.hookName),
  };
  if (cfg.lrDecaySteps > 0 && cfg.maxSteps === null) {
    throw new SaeError(
      "CONFIG_INVALID",
      `${C}: lrDecaySteps=${cfg.lrDecaySteps} needs maxSteps (the decay ends at maxSteps)`,
      { field: "lrDecaySteps" },
    );
  }
  return Object.freeze(cfg);
}

/** Learning rate at (1-based) step t: the SAE trainer's schedule (warmup, constant, linear decay). */
export function crosscoderLrAt(cfg: CrosscoderTrainConfig, t: number): number {
  return lrAt({ ...DEFAULT_SAE_TRAIN_CONFIG, ...cfg, lr: peakLr(cfg) }, t);
}

/** Effective AuxK width. */
export function crosscoderKAux(cfg: Pick<CrosscoderTrainConfig, "kAux" | "dIn" | "dSae">): number {
  return Math.min(cfg.kAux ?? Math.floor(cfg.dIn / 2), cfg.dSae);
}
