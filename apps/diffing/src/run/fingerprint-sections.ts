/**
 * What of each config section determines a trained SAE, as fingerprint fields (app-kit compares and digests
 * them). Left out on purpose: paths (a moved folder is the same data), W&B, checkpoint cadence (resume is
 * bit-exact, so it never changes a result) and descriptions.
 */
import * as path from "node:path";
import { fileSha256, type ModelRef, modelFingerprint } from "@difflens/app-kit";
import type { ChatDataConfig, HarvestConfig, MaskConfig, SaeConfig, TextDataConfig } from "../config/sections.ts";

/** Data files in reading order: name and content hash. */
export function dataFilesFingerprint(files: readonly string[]): Array<{ file: string; sha256: string }> {
  return files.map((f) => ({ file: path.basename(f), sha256: fileSha256(f) }));
}

export function textDataFingerprint(cfg: TextDataConfig): Record<string, unknown> {
  return {
    kind: "text",
    files: dataFilesFingerprint(cfg.files),
    column: cfg.column,
    contextSize: cfg.contextSize,
    separatorToken: cfg.separatorToken,
  };
}

export function chatDataFingerprint(cfg: ChatDataConfig): Record<string, unknown> {
  return {
    kind: "chat",
    files: dataFilesFingerprint(cfg.files),
    format: cfg.format,
    column: cfg.column,
    instructionIn: cfg.instructionIn,
    contextSize: cfg.contextSize,
    padToken: cfg.padToken,
    overflow: cfg.overflow,
    trainRegions: cfg.trainRegions,
  };
}

/** The SAE settings that change the weights a run ends with (`finetune`: the optimizer hand-over too). */
export function saeFingerprint(sae: SaeConfig, finetune: boolean): Record<string, unknown> {
  return {
    dSae: sae.dSae,
    k: sae.k,
    lr: sae.lr,
    batchSize: sae.batchSize,
    lrWarmupSteps: sae.lrWarmupSteps,
    lrDecayFraction: sae.lrDecayFraction,
    deadAfterTokens: sae.deadAfterTokens,
    normalizeActivations: sae.normalizeActivations,
    seed: sae.seed,
    ...(finetune ? { finetuneOptimizer: sae.finetuneOptimizer } : {}),
  };
}

export function maskFingerprint(mask: MaskConfig): Record<string, unknown> {
  return { excludeTokens: [...mask.excludeTokens], excludeFirstPosition: mask.excludeFirstPosition };
}

export function harvestFingerprint(harvest: HarvestConfig): Record<string, unknown> {
  return { windowsPerForward: harvest.windowsPerForward, shuffleRows: harvest.shuffleRows };
}

/** A model named by a config: its files' hashes (app-kit's `modelFingerprint`). */
export function modelRefFingerprint(ref: ModelRef): Record<string, unknown> {
  const fp = modelFingerprint(ref);
  return { files: fp.files, adapter: fp.adapter };
}
