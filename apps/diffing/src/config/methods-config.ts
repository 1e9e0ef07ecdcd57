/**
 * The `methods` section of a diffing config: what `methods-report` runs beside stage-wise diffing (issue 21) —
 * which pair, which windows go into the paired harvest, and each method's training settings. Every key is
 * optional; unknown keys are refused with the nearest valid one, wrong types name the field and what was expected.
 *
 * The pair, in order of precedence:
 *   1. `toy`: the three-plant toy (or its control) of `ensureMethodsToy`, its windows and planted directions;
 *   2. `base` / `chat` / `hook` here, else the pipeline's `baseModel` / `chatModel` / `hook` (its demo toy when it
 *      has one) — windows from the pipeline's textData and chatData.
 * The stage-wise method reuses the pipeline's own sections (data, mask, sae, stages) with every stage's tokens
 * scaled by `stagewise.tokenScale`.
 */
import * as path from "node:path";
import { type ModelRef, resolveModelRef } from "@difflens/app-kit";
import { didYouMean } from "@difflens/common";
import { DEFAULT_CROSSCODER_TRAIN_CONFIG } from "@difflens/sae";
import { DiffingError } from "../errors.ts";
import { METHODS_TOY_TRAINING } from "../methods-toy/training.ts";
import { deepFreeze, fields, num, objectWithKeys, oneOf, str, strList } from "./fields.ts";

/** The methods a run can hold, in the order they run (keys of methods.json's `methods` and `timings`). */
export const METHOD_NAMES = ["crosscoderBatchTopK", "crosscoderL1", "diffSae", "adl", "stagewise"] as const;
export type MethodName = (typeof METHOD_NAMES)[number];

export interface MethodsToyConfig {
  readonly variant: "three-plant" | "control";
  readonly seed: number;
  /** Where the generated model folders are cached. */
  readonly cacheDir: string;
}

export interface MethodsHarvestConfig {
  /** Windows through both models (toy: its `windows(n, seed)`; else text and chat windows of the pipeline's data). */
  readonly windows: number;
  /** Real data: fraction of the windows that are plain text (the rest are chats). */
  readonly textFraction: number;
  readonly windowsPerForward: number;
  readonly seed: number;
}

/** A dictionary's training: CrosscoderTrainConfig / SaeTrainConfig fields, and its passes over the store. */
export interface DiffSaeSettings {
  readonly dSae: number;
  /** Active latents per row (BatchTopK: on average; unused by L1). */
  readonly k: number;
  readonly lr: number;
  readonly lrWarmupSteps: number;
  readonly initSampleTokens: number;
  /** Seed of the initial weights. */
  readonly seed: number;
  readonly batchSize: number;
  readonly epochs: number;
  /** Seed of the batch order (rows shuffled within each store shard). */
  readonly shuffleSeed: number;
}

export interface CrosscoderSettings extends DiffSaeSettings {
  /** L1 only: weight of the decoder-norm-weighted L1 penalty. */
  readonly l1Coef: number;
  /** Latents of highest relative norm scored by Latent Scaling besides the chat-only ones. */
  readonly chatLeaning: number;
}

export interface MethodsConfig {
  readonly toy: MethodsToyConfig | null;
  /** Override the pipeline's pair (both or neither). */
  readonly base: ModelRef | null;
  readonly chat: ModelRef | null;
  readonly hook: string | null;
  /** Methods to run (diffSae and adl run together: the diff-SAE's table holds each latent's cosine to the ADL). */
  readonly run: readonly MethodName[];
  readonly harvest: MethodsHarvestConfig;
  readonly batchTopK: CrosscoderSettings;
  readonly l1: CrosscoderSettings;
  readonly diffSae: DiffSaeSettings;
  readonly adl: { readonly firstPositions: number; readonly lensTokens: number };
  readonly stagewise: { readonly tokenScale: number };
  /** Headline latents per method in directions.safetensors (and the diff-SAE's top-latents table). */
  readonly topLatents: number;
}

const T = METHODS_TOY_TRAINING;
const crosscoderDefaults = (c: Partial<CrosscoderSettings>) => ({
  dSae: c.dSae!,
  k: c.k ?? DEFAULT_CROSSCODER_TRAIN_CONFIG.k,
  l1Coef: c.l1Coef ?? DEFAULT_CROSSCODER_TRAIN_CONFIG.l1Coef,
  lr: c.lr!,
  lrWarmupSteps: c.lrWarmupSteps!,
  initSampleTokens: c.initSampleTokens!,
  seed: c.seed!,
  batchSize: T.crosscoderTrain.batchSize,
  epochs: T.crosscoderTrain.epochs,
  shuffleSeed: T.crosscoderTrain.seed,
  chatLeaning: 10,
});

/** Defaults: the methods toy's tuned training (METHODS_TOY_TRAINING, d_in 64); a real model needs its own. */
export const DEFAULT_METHODS: Omit<MethodsConfig, "toy"> = deepFreeze({
  base: null,
  chat: null,
  hook: null,
  run: METHOD_NAMES,
  harvest: { windows: T.windows, textFraction: 0.5, windowsPerForward: T.windowsPerForward, seed: T.windowSeed },
  batchTopK: crosscoderDefaults(T.crosscoderBatchTopK),
  l1: crosscoderDefaults(T.crosscoderL1),
  diffSae: {
    dSae: T.diffSae.dSae,
    k: T.diffSae.k,
    lr: T.diffSae.lr,
    lrWarmupSteps: T.diffSae.lrWarmupSteps,
    initSampleTokens: T.diffSae.initSampleTokens,
    seed: T.diffSae.seed,
    batchSize: T.diffSaeTrain.batchSize,
    epochs: T.diffSaeTrain.epochs,
    shuffleSeed: T.diffSaeTrain.seed,
  },
  adl: { firstPositions: 5, lensTokens: 20 },
  stagewise: { tokenScale: 0.25 },
  topLatents: 5,
});

const KEYS = ["$comment", "toy", ...Object.keys(DEFAULT_METHODS)];

/** Resolves the `methods` section; relative paths resolve from `baseDir` (the config file's folder). */
export function resolveMethodsConfig(where: string, input: unknown, baseDir: string): MethodsConfig {
  const rec = objectWithKeys(where, input, KEYS);
  const D = DEFAULT_METHODS;
  let toy: MethodsToyConfig | null = null;
  if (rec.toy !== undefined && rec.toy !== null) {
    const t = objectWithKeys(`${where}.toy`, rec.toy, ["variant", "seed", "cacheDir"]);
    toy = {
      variant: oneOf(`${where}.toy`, t, "variant", "three-plant", ["three-plant", "control"] as const),
      seed: num(`${where}.toy`, t, "seed", 0, { int: true, min: 0 }),
      cacheDir: path.resolve(baseDir, str(`${where}.toy`, t, "cacheDir", "runs/diffing/methods-toy-models")),
    };
  }
  const model = (key: "base" | "chat") =>
    rec[key] === undefined || rec[key] === null ? null : resolveModelRef(`${where}.${key}`, rec[key], baseDir, fields);
  const [base, chat] = [model("base"), model("chat")];
  if ((base === null) !== (chat === null))
    throw new DiffingError("CONFIG_INVALID", `${where}: base and chat name the pair together — give both or neither`, {
      field: `${where}.${base === null ? "base" : "chat"}`,
    });
  if (toy !== null && base !== null)
    throw new DiffingError("CONFIG_INVALID", `${where}: toy and base/chat both name the pair — keep one`, {
      field: `${where}.toy`,
    });
  const run = strList(where, rec, "run", D.run);
  for (const name of run)
    if (!(METHOD_NAMES as readonly string[]).includes(name))
      throw new DiffingError(
        "CONFIG_INVALID",
        `${where}.run: unknown method ${JSON.stringify(name)}${didYouMean(name, METHOD_NAMES)} (methods: ${METHOD_NAMES.join(", ")})`,
        { field: `${where}.run`, got: name, expected: METHOD_NAMES.join(", ") },
      );
  const h = objectWithKeys(`${where}.harvest`, rec.harvest, Object.keys(D.harvest));
  const a = objectWithKeys(`${where}.adl`, rec.adl, Object.keys(D.adl));
  const s = objectWithKeys(`${where}.stagewise`, rec.stagewise, Object.keys(D.stagewise));
  return deepFreeze({
    toy,
    base,
    chat,
    hook: str(where, rec, "hook", null),
    run: METHOD_NAMES.filter((m) => run.includes(m)),
    harvest: {
      windows: num(`${where}.harvest`, h, "windows", D.harvest.windows, { int: true, min: 1 }),
      textFraction: num(`${where}.harvest`, h, "textFraction", D.harvest.textFraction, { min: 0, max: 1 }),
      windowsPerForward: num(`${where}.harvest`, h, "windowsPerForward", D.harvest.windowsPerForward, {
        int: true,
        min: 1,
      }),
      seed: num(`${where}.harvest`, h, "seed", D.harvest.seed, { int: true, min: 0 }),
    },
    batchTopK: crosscoder(`${where}.batchTopK`, rec.batchTopK, D.batchTopK),
    l1: crosscoder(`${where}.l1`, rec.l1, D.l1),
    diffSae: trainSettings(`${where}.diffSae`, rec.diffSae, D.diffSae),
    adl: {
      firstPositions: num(`${where}.adl`, a, "firstPositions", D.adl.firstPositions, { int: true, min: 0 }),
      lensTokens: num(`${where}.adl`, a, "lensTokens", D.adl.lensTokens, { int: true, min: 1 }),
    },
    stagewise: {
      tokenScale: num(`${where}.stagewise`, s, "tokenScale", D.stagewise.tokenScale, { min: 0.001, max: 1 }),
    },
    topLatents: num(where, rec, "topLatents", D.topLatents, { int: true, min: 1 }),
  });
}

function trainSettings(where: string, input: unknown, D: DiffSaeSettings): DiffSaeSettings {
  const r = objectWithKeys(where, input, Object.keys(D));
  const dSae = num(where, r, "dSae", D.dSae, { int: true, min: 1 });
  return {
    dSae,
    k: num(where, r, "k", Math.min(D.k, dSae), { int: true, min: 1, max: dSae }),
    lr: num(where, r, "lr", D.lr, { min: 0 }),
    lrWarmupSteps: num(where, r, "lrWarmupSteps", D.lrWarmupSteps, { int: true, min: 0 }),
    initSampleTokens: num(where, r, "initSampleTokens", D.initSampleTokens, { int: true, min: 1 }),
    batchSize: num(where, r, "batchSize", D.batchSize, { int: true, min: 2 }),
    epochs: num(where, r, "epochs", D.epochs, { int: true, min: 1 }),
    seed: num(where, r, "seed", D.seed, { int: true, min: 0 }),
    shuffleSeed: num(where, r, "shuffleSeed", D.shuffleSeed, { int: true, min: 0 }),
  };
}

function crosscoder(where: string, input: unknown, D: CrosscoderSettings): CrosscoderSettings {
  const r = objectWithKeys(where, input, Object.keys(D));
  return {
    ...trainSettings(where, r, D),
    l1Coef: num(where, r, "l1Coef", D.l1Coef, { min: 0 }),
    chatLeaning: num(where, r, "chatLeaning", D.chatLeaning, { int: true, min: 0 }),
  };
}
