import { SaeError } from "../errors.ts";
import { checkKeys, enumField, numberField, stringField } from "../resolve-config.ts";

/** Everything that defines a TopK SAE training run (DESIGN §6). Frozen defaults in DEFAULT_SAE_TRAIN_CONFIG. */
export interface SaeTrainConfig {
  /** Width of the activations (the hook's dModel). Required. */
  dIn: number;
  /** Latents in the dictionary. Required. */
  dSae: number;
  /** Active latents per token. */
  k: number;
  /** Peak learning rate; null = sparsify's rule 2e-4 / √(dSae / 2^14). */
  lr: number | null;
  /** Adam β1 (torch default). */
  adamBeta1: number;
  /** Adam β2 (torch default). */
  adamBeta2: number;
  /** Adam ε (openai/sparse_autoencoder uses 6.25e-10). */
  adamEps: number;
  /** Linear warmup from 0 over this many steps. */
  lrWarmupSteps: number;
  /** Linear decay to `lrEnd` over the last this-many steps of `maxSteps` (0 = constant after warmup). */
  lrDecaySteps: number;
  /** Learning rate at the end of the decay, as a fraction of the peak. */
  lrEndFraction: number;
  /** Stop after this many optimizer steps; null = when the source ends. Decay needs it. */
  maxSteps: number | null;
  /** Latents the AuxK loss may use per token; null = floor(dIn / 2) (sparsify, paper appendix B.1). */
  kAux: number | null;
  /** Weight of the AuxK loss. */
  auxkCoef: number;
  /** Tokens without firing after which a latent counts as dead (AuxK). */
  deadAfterTokens: number;
  /** Scale inputs to unit mean squared norm during training (folded into the weights on save). */
  normalizeActivations: "none" | "unit-mean-squared-norm";
  /** Tokens from the start of the source used for the geometric-median bDec, input scale and init stats. */
  initSampleTokens: number;
  /** Weiszfeld iterations for the geometric median. */
  geometricMedianIters: number;
  /** Seed of the run's RNG (initial weights). */
  seed: number;
  /** Write a checkpoint every this many steps (0 = only at the end). */
  checkpointEverySteps: number;
  /** Step checkpoints kept on disk besides the newest (older ones are deleted). */
  keepCheckpoints: number;
  /** Log metrics every this many steps. */
  logEverySteps: number;
  /** Hook point the activations come from (recorded in cfg.json; used for splice metrics). */
  hookName: string | null;
}

export const DEFAULT_SAE_TRAIN_CONFIG: Readonly<Omit<SaeTrainConfig, "dIn" | "dSae">> = Object.freeze({
  k: 32,
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
  initSampleTokens: 32768,
  geometricMedianIters: 100,
  seed: 0,
  checkpointEverySteps: 1000,
  keepCheckpoints: 1,
  logEverySteps: 100,
  hookName: null,
});

const KEYS = ["dIn", "dSae", ...Object.keys(DEFAULT_SAE_TRAIN_CONFIG)];

/** Validates a training config: unknown keys are rejected with the nearest valid key suggested. */
export function resolveSaeTrainConfig(input: unknown): Readonly<SaeTrainConfig> {
  const C = "SaeTrainConfig";
  const rec = checkKeys(C, input, KEYS);
  const D = DEFAULT_SAE_TRAIN_CONFIG;
  if (rec.dIn === undefined || rec.dSae === undefined) {
    throw new SaeError("CONFIG_INVALID", `${C}: dIn and dSae are required`, {
      field: rec.dIn === undefined ? "dIn" : "dSae",
    });
  }
  const dIn = numberField(C, rec, "dIn", null, { int: true, min: 1 })!;
  const dSae = numberField(C, rec, "dSae", null, { int: true, min: 1 })!;
  const k = numberField(C, rec, "k", D.k, { int: true, min: 1, max: dSae })!;
  const cfg: SaeTrainConfig = {
    dIn,
    dSae,
    k,
    lr: numberField(C, rec, "lr", D.lr, { minExclusive: 0, nullable: true }),
    adamBeta1: numberField(C, rec, "adamBeta1", D.adamBeta1, { min: 0, max: 0.999999 })!,
    adamBeta2: numberField(C, rec, "adamBeta2", D.adamBeta2, { min: 0, max: 0.99999999 })!,
    adamEps: numberField(C, rec, "adamEps", D.adamEps, { minExclusive: 0 })!,
    lrWarmupSteps: numberField(C, rec, "lrWarmupSteps", D.lrWarmupSteps, { int: true, min: 0 })!,
    lrDecaySteps: numberField(C, rec, "lrDecaySteps", D.lrDecaySteps, { int: true, min: 0 })!,
    lrEndFraction: numberField(C, rec, "lrEndFraction", D.lrEndFraction, { min: 0, max: 1 })!,
    maxSteps: numberField(C, rec, "maxSteps", D.maxSteps, { int: true, min: 1, nullable: true }),
    kAux: numberField(C, rec, "kAux", D.kAux, { int: true, min: 1, max: dSae, nullable: true }),
    auxkCoef: numberField(C, rec, "auxkCoef", D.auxkCoef, { min: 0 })!,
    deadAfterTokens: numberField(C, rec, "deadAfterTokens", D.deadAfterTokens, { int: true, min: 1 })!,
    normalizeActivations: enumField(C, rec, "normalizeActivations", D.normalizeActivations, [
      "none",
      "unit-mean-squared-norm",
    ] as const),
    initSampleTokens: numberField(C, rec, "initSampleTokens", D.initSampleTokens, { int: true, min: 1 })!,
    geometricMedianIters: numberField(C, rec, "geometricMedianIters", D.geometricMedianIters, { int: true, min: 0 })!,
    seed: numberField(C, rec, "seed", D.seed, { int: true, min: 0 })!,
    checkpointEverySteps: numberField(C, rec, "checkpointEverySteps", D.checkpointEverySteps, { int: true, min: 0 })!,
    keepCheckpoints: numberField(C, rec, "keepCheckpoints", D.keepCheckpoints, { int: true, min: 0 })!,
    logEverySteps: numberField(C, rec, "logEverySteps", D.logEverySteps, { int: true, min: 1 })!,
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

/** The peak learning rate a config resolves to. */
export function peakLr(cfg: Pick<SaeTrainConfig, "lr" | "dSae">): number {
  return cfg.lr ?? 2e-4 / Math.sqrt(cfg.dSae / 2 ** 14);
}

/** Effective AuxK width. */
export function effectiveKAux(cfg: Pick<SaeTrainConfig, "kAux" | "dIn" | "dSae">): number {
  return Math.min(cfg.kAux ?? Math.floor(cfg.dIn / 2), cfg.dSae);
}

/** Learning rate at (1-based) optimizer step t: linear warmup, constant, linear decay over the last steps. */
export function lrAt(cfg: SaeTrainConfig, t: number): number {
  const peak = peakLr(cfg);
  let f = 1;
  if (cfg.lrWarmupSteps > 0 && t <= cfg.lrWarmupSteps) f = t / cfg.lrWarmupSteps;
  if (cfg.lrDecaySteps > 0 && cfg.maxSteps !== null) {
    const start = cfg.maxSteps - cfg.lrDecaySteps;
    if (t > start) {
      const frac = Math.min(1, (t - start) / cfg.lrDecaySteps);
      f = Math.min(f, 1 - frac * (1 - cfg.lrEndFraction));
    }
  }
  return peak * f;
}
