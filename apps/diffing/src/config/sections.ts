/**
 * Config sections shared by the stage pipeline (diffing-config.ts) and the generic train/finetune commands
 * (train-config.ts). Each has a doc comment per field, frozen defaults and a resolver that rejects unknown keys.
 */

import { DiffingError } from "../errors.ts";
import { bool, num, objectWithKeys, oneOf, str, strList } from "./fields.ts";

/** Untokenized text, packed into windows (the seed's Pile). */
export interface TextDataConfig {
  /** Parquet files, read as one dataset. */
  readonly files: readonly string[];
  /** The text column. */
  readonly column: string;
  /** Tokens per window (the seed used 256). */
  readonly contextSize: number;
  /** Token written between documents. */
  readonly separatorToken: string;
}
export const DEFAULT_TEXT_DATA: Omit<TextDataConfig, "files"> = Object.freeze({
  column: "text",
  contextSize: 256,
  separatorToken: "<|endoftext|>",
});

export function resolveTextData(where: string, input: unknown): TextDataConfig {
  const rec = objectWithKeys(where, input, ["files", "column", "contextSize", "separatorToken"]);
  const files = strList(where, rec, "files", []);
  if (files.length === 0)
    throw new DiffingError("CONFIG_INVALID", `${where}.files: at least one Parquet file is required`, {
      field: `${where}.files`,
    });
  const D = DEFAULT_TEXT_DATA;
  return {
    files,
    column: str(where, rec, "column", D.column),
    contextSize: num(where, rec, "contextSize", D.contextSize, { int: true, min: 2 }),
    separatorToken: str(where, rec, "separatorToken", D.separatorToken),
  };
}

/** Chat data: Alpaca rows rendered with the chat template, or pre-tokenized chats (the seed's tokenized Alpaca). */
export interface ChatDataConfig {
  readonly files: readonly string[];
  /** "alpaca": instruction/input/output columns rendered with the chat model's template; "tokenized": a list<int32> column. */
  readonly format: "alpaca" | "tokenized";
  /** The token column for "tokenized". */
  readonly column: string;
  /** Alpaca: the instruction goes in the user turn (common) or the system turn (the seed's preparation). */
  readonly instructionIn: "user" | "system";
  /** One chat per window, right-padded to this many tokens (the seed padded to 512). */
  readonly contextSize: number;
  /** Padding token (always masked out of training). */
  readonly padToken: string;
  /** Chats longer than the window: cut or skipped. */
  readonly overflow: "truncate" | "skip";
  /** Train only on tokens whose region label starts with one of these (e.g. ["assistant:content"]); null = all. */
  readonly trainRegions: readonly string[] | null;
}
export const DEFAULT_CHAT_DATA: Omit<ChatDataConfig, "files"> = Object.freeze({
  format: "alpaca",
  column: "input_ids",
  instructionIn: "user",
  contextSize: 512,
  padToken: "<|endoftext|>",
  overflow: "truncate",
  trainRegions: null,
});

export function resolveChatData(where: string, input: unknown): ChatDataConfig {
  const rec = objectWithKeys(where, input, [
    "files",
    "format",
    "column",
    "instructionIn",
    "contextSize",
    "padToken",
    "overflow",
    "trainRegions",
  ]);
  const files = strList(where, rec, "files", []);
  if (files.length === 0)
    throw new DiffingError("CONFIG_INVALID", `${where}.files: at least one Parquet file is required`, {
      field: `${where}.files`,
    });
  const D = DEFAULT_CHAT_DATA;
  const regions =
    rec.trainRegions === null || rec.trainRegions === undefined ? null : strList(where, rec, "trainRegions", []);
  return {
    files,
    format: oneOf(where, rec, "format", D.format, ["alpaca", "tokenized"] as const),
    column: str(where, rec, "column", D.column),
    instructionIn: oneOf(where, rec, "instructionIn", D.instructionIn, ["user", "system"] as const),
    contextSize: num(where, rec, "contextSize", D.contextSize, { int: true, min: 2 }),
    padToken: str(where, rec, "padToken", D.padToken),
    overflow: oneOf(where, rec, "overflow", D.overflow, ["truncate", "skip"] as const),
    trainRegions: regions,
  };
}

/** Which positions never reach an SAE (padding is always excluded). */
export interface MaskConfig {
  /** Special tokens excluded wherever they occur (their activations are outliers and carry no content). */
  readonly excludeTokens: readonly string[];
  /** Exclude the first position of every window (an attention sink). */
  readonly excludeFirstPosition: boolean;
}
export const DEFAULT_MASK: MaskConfig = Object.freeze({
  excludeTokens: Object.freeze(["<|endoftext|>", "<|im_start|>", "<|im_end|>"]),
  excludeFirstPosition: false,
});

export function resolveMask(where: string, input: unknown): MaskConfig {
  const rec = objectWithKeys(where, input, ["excludeTokens", "excludeFirstPosition"]);
  return {
    excludeTokens: strList(where, rec, "excludeTokens", DEFAULT_MASK.excludeTokens),
    excludeFirstPosition: bool(where, rec, "excludeFirstPosition", DEFAULT_MASK.excludeFirstPosition),
  };
}

/** The TopK SAE shared by every stage (stages may not change hook, d_sae or k: latent i must stay latent i). */
export interface SaeConfig {
  /** Latents in the dictionary. */
  readonly dSae: number;
  /** Active latents per token. */
  readonly k: number;
  /** Peak learning rate; null = sparsify's 2e-4 / √(dSae / 2^14). */
  readonly lr: number | null;
  /** Activation rows per optimizer step. */
  readonly batchSize: number;
  /** Linear warmup steps of a run started from scratch. */
  readonly lrWarmupSteps: number;
  /** Fraction of a stage's steps spent decaying the lr linearly to 0 at the end (0 = constant). */
  readonly lrDecayFraction: number;
  /** Tokens without firing after which a latent counts as dead (AuxK revives it). */
  readonly deadAfterTokens: number;
  /** Scale activations to unit mean squared norm during training (folded into the saved weights). */
  readonly normalizeActivations: "none" | "unit-mean-squared-norm";
  /** Seed of initial weights and shuffles. */
  readonly seed: number;
  /** Checkpoint every this many steps (resume point). */
  readonly checkpointEverySteps: number;
  /** Finetuned stages keep the parent's Adam moments ("keep") or start fresh ("reset"). */
  readonly finetuneOptimizer: "keep" | "reset";
}
export const DEFAULT_SAE: Omit<SaeConfig, "dSae"> = Object.freeze({
  k: 32,
  lr: null,
  batchSize: 4096,
  lrWarmupSteps: 1000,
  lrDecayFraction: 0.2,
  deadAfterTokens: 10_000_000,
  normalizeActivations: "unit-mean-squared-norm",
  seed: 0,
  checkpointEverySteps: 1000,
  finetuneOptimizer: "reset",
});

export function resolveSae(where: string, input: unknown): SaeConfig {
  const rec = objectWithKeys(where, input, ["dSae", ...Object.keys(DEFAULT_SAE)]);
  if (rec.dSae === undefined)
    throw new DiffingError("CONFIG_INVALID", `${where}.dSae is required`, { field: `${where}.dSae` });
  const D = DEFAULT_SAE;
  const dSae = num(where, rec, "dSae", 0, { int: true, min: 1 });
  return {
    dSae,
    k: num(where, rec, "k", D.k, { int: true, min: 1, max: dSae }),
    lr: num(where, rec, "lr", D.lr, { min: 0, nullable: true }),
    batchSize: num(where, rec, "batchSize", D.batchSize, { int: true, min: 2 }),
    lrWarmupSteps: num(where, rec, "lrWarmupSteps", D.lrWarmupSteps, { int: true, min: 0 }),
    lrDecayFraction: num(where, rec, "lrDecayFraction", D.lrDecayFraction, { min: 0, max: 1 }),
    deadAfterTokens: num(where, rec, "deadAfterTokens", D.deadAfterTokens, { int: true, min: 1 }),
    normalizeActivations: oneOf(where, rec, "normalizeActivations", D.normalizeActivations, [
      "none",
      "unit-mean-squared-norm",
    ] as const),
    seed: num(where, rec, "seed", D.seed, { int: true, min: 0 }),
    checkpointEverySteps: num(where, rec, "checkpointEverySteps", D.checkpointEverySteps, { int: true, min: 0 }),
    finetuneOptimizer: oneOf(where, rec, "finetuneOptimizer", D.finetuneOptimizer, ["keep", "reset"] as const),
  };
}

/** How activations are made: harvested from the model on the fly, shuffled through an in-memory buffer. */
export interface HarvestConfig {
  /** Windows per forward pass. */
  readonly windowsPerForward: number;
  /** Rows held by the shuffle buffer (consecutive tokens are correlated; SAELens mixes many batches). */
  readonly shuffleRows: number;
}
export const DEFAULT_HARVEST: HarvestConfig = Object.freeze({ windowsPerForward: 8, shuffleRows: 65536 });

export function resolveHarvest(where: string, input: unknown): HarvestConfig {
  const rec = objectWithKeys(where, input, Object.keys(DEFAULT_HARVEST));
  return {
    windowsPerForward: num(where, rec, "windowsPerForward", DEFAULT_HARVEST.windowsPerForward, { int: true, min: 1 }),
    shuffleRows: num(where, rec, "shuffleRows", DEFAULT_HARVEST.shuffleRows, { int: true, min: 0 }),
  };
}

/** Experiment tracking (offline by default: a local run folder, `pnpm difflens-wandb sync` uploads it later). */
export interface WandbConfig {
  readonly mode: "offline" | "online" | "disabled";
  readonly project: string;
  readonly entity: string | null;
}
export const DEFAULT_WANDB: WandbConfig = Object.freeze({ mode: "offline", project: "difflens-diffing", entity: null });

export function resolveWandb(where: string, input: unknown): WandbConfig {
  const rec = objectWithKeys(where, input, Object.keys(DEFAULT_WANDB));
  return {
    mode: oneOf(where, rec, "mode", DEFAULT_WANDB.mode, ["offline", "online", "disabled"] as const),
    project: str(where, rec, "project", DEFAULT_WANDB.project),
    entity: str(where, rec, "entity", DEFAULT_WANDB.entity),
  };
}
