/**
 * features/latent-stats-<stage>.safetensors: one stage's per-latent density and decoder logits, for every latent.
 *
 *   firing_count      I32 [dSae]          counted positions where the latent's code is > 0
 *   max_activation    F32 [dSae]          its largest activation (0 when it never fires)
 *   density_hist      I32 [dSae, bins]    its nonzero activations in `bins` equal bins, edges
 *                                         linspace(0, max_activation[i], bins + 1) (the max falls in the last bin)
 *   logits_pos_ids    I32 [dSae, topN]    token ids of the largest W_dec[i] · W_Uᵀ, largest first
 *   logits_pos_values F32 [dSae, topN]
 *   logits_neg_ids    I32 [dSae, topN]    token ids of the most negative, most negative first
 *   logits_neg_values F32 [dSae, topN]
 *
 * Metadata (strings): format "difflens-latent-stats", version "1", stage, hook, model ("base" | "chat"),
 * unembedding (what W_U is and that no final norm is applied), tokens (counted positions), windows, data,
 * bins, topN, dSae. Row i of every tensor is latent i, so a reader takes one latent's bytes without the rest.
 * The token strings of the logit ids are in features/logit-tokens.json (one map for every stage: the page needs
 * no tokenizer, and a run folder copied without its models still shows them).
 */
import { Tensor, writeSafetensors } from "@difflens/tensor";
import type { DecoderLogits } from "./decoder-logits.ts";
import type { LatentStats } from "./latent-stats.ts";

export const LATENT_STATS_FORMAT = "difflens-latent-stats";

export function latentStatsFileName(stage: string): string {
  return `latent-stats-${stage}.safetensors`;
}

export interface LatentStatsMetadata {
  readonly stage: string;
  readonly hook: string;
  readonly model: "base" | "chat";
  readonly unembedding: string;
  readonly windows: number;
  readonly data: string;
}

export async function writeLatentStatsFile(
  file: string,
  stats: LatentStats,
  logits: DecoderLogits,
  meta: LatentStatsMetadata,
): Promise<void> {
  const { dSae, bins } = stats;
  const n = logits.topN;
  const tensors = {
    firing_count: new Tensor("i32", [dSae], stats.firing),
    max_activation: new Tensor("f32", [dSae], stats.maxActivation),
    density_hist: new Tensor("i32", [dSae, bins], stats.histogram),
    logits_pos_ids: new Tensor("i32", [dSae, n], logits.positiveIds),
    logits_pos_values: new Tensor("f32", [dSae, n], logits.positiveValues),
    logits_neg_ids: new Tensor("i32", [dSae, n], logits.negativeIds),
    logits_neg_values: new Tensor("f32", [dSae, n], logits.negativeValues),
  };
  await writeSafetensors(file, tensors, {
    format: LATENT_STATS_FORMAT,
    version: "1",
    stage: meta.stage,
    hook: meta.hook,
    model: meta.model,
    unembedding: meta.unembedding,
    tokens: String(stats.tokens),
    windows: String(meta.windows),
    data: meta.data,
    bins: String(bins),
    topN: String(n),
    dSae: String(dSae),
  });
}
