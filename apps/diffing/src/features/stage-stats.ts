/**
 * Density and decoder logits of every latent in every stage, over the features windows: S and D on the base model
 * (one forward pass for both), M, DF and MF on the chat model (one for the three); logits through the base model's
 * unembedding for S and D, the chat model's for M, DF and MF. Returns the writer of
 * latent-stats-<stage>.safetensors (see latent-stats-file.ts) and logit-tokens.json into a features folder.
 */
import * as path from "node:path";
import type { ContextWindow } from "@difflens/app-kit";
import { writeJsonAtomic } from "@difflens/common";
import type { Sae } from "@difflens/sae";
import { type DiffingConfig, STAGE_NAMES, type StageName } from "../config/diffing-config.ts";
import type { PipelineModels } from "../models/open-models.ts";
import { type DecoderLogits, decoderLogits } from "./decoder-logits.ts";
import { type LatentStats, latentStats } from "./latent-stats.ts";
import { latentStatsFileName, writeLatentStatsFile } from "./latent-stats-file.ts";

export const LOGIT_TOKENS_FILE = "logit-tokens.json";

/** Which model each stage's SAE reads (and whose unembedding its logits use). */
export const STAGE_MODEL: Readonly<Record<StageName, "base" | "chat">> = {
  S: "base",
  D: "base",
  M: "chat",
  DF: "chat",
  MF: "chat",
};

const UNMAPPED = '"<unmapped id N>"';

/** An unembedding has rows past the tokenizer's vocabulary (padding to a multiple of 64/128): named, not decoded. */
async function tokenString(models: PipelineModels, id: number): Promise<string> {
  try {
    return await models.tokenizer.decode([id]);
  } catch {
    return `<unmapped id ${id}>`;
  }
}

export async function stageStatsWriter(
  config: DiffingConfig,
  models: PipelineModels,
  saes: Readonly<Record<StageName, Sae>>,
  windows: readonly ContextWindow[],
): Promise<(outDir: string) => Promise<void>> {
  const stats = {} as Record<StageName, LatentStats>;
  const logits = {} as Record<StageName, DecoderLogits>;
  for (const side of ["base", "chat"] as const) {
    const stages = STAGE_NAMES.filter((s) => STAGE_MODEL[s] === side);
    const model = models[side];
    const found = await latentStats({
      model,
      hook: config.hook,
      windows,
      windowsPerForward: config.harvest.windowsPerForward,
      saes: stages.map((s) => saes[s]),
    });
    for (const [i, s] of stages.entries()) {
      stats[s] = found[i]!;
      logits[s] = await decoderLogits(saes[s].weights.wDec, saes[s].dSae, model.weights.lmHead);
    }
  }
  const ids = new Set<number>();
  for (const s of STAGE_NAMES) {
    for (const id of logits[s].positiveIds) ids.add(id);
    for (const id of logits[s].negativeIds) ids.add(id);
  }
  const tokens: Record<string, string> = {};
  for (const id of [...ids].sort((a, b) => a - b)) tokens[id] = await tokenString(models, id);
  return async (outDir) => {
    for (const s of STAGE_NAMES) {
      const side = STAGE_MODEL[s];
      await writeLatentStatsFile(path.join(outDir, latentStatsFileName(s)), stats[s], logits[s], {
        stage: s,
        hook: config.hook,
        model: side,
        unembedding: `${side} model lm_head (${models.describe[side]}); logits = W_dec[i] · W_U^T, no final norm`,
        windows: windows.length,
        data: config.features.data,
      });
    }
    writeJsonAtomic(path.join(outDir, LOGIT_TOKENS_FILE), {
      description: `Token strings of every token id in the latent-stats files' logits_*_ids, decoded one by one; ${UNMAPPED} for rows of the unembedding past the tokenizer's vocabulary (padding rows).`,
      tokens,
    });
  };
}
