/**
 * The feature page of one latent in one stage: its max-activating contexts (base side and chat side, as
 * features.json stored them), its decoder and encoder cosines across the stage pairs (compare/latents.json), the
 * top logits and the density histogram of this stage (features/latent-stats-<stage>.safetensors, only this
 * latent's rows read) with the token strings from features/logit-tokens.json. Each missing or malformed file is an
 * error panel; the other parts still come back. An unknown stage is BAD_REQUEST, a latent outside the SAE NOT_FOUND.
 */
import { access } from "node:fs/promises";
import * as path from "node:path";
import { LOGIT_TOKENS_FILE } from "diffing";
import {
  type FeatureContexts,
  type FeaturePageResponse,
  type LogitEntry,
  STAGES,
  type StageName,
} from "../api/diffing-types.ts";
import type { ErrorPanel } from "../api/run-types.ts";
import { DashboardError } from "../errors.ts";
import {
  type CompareRow,
  type FeaturesFile,
  loadCompareTable,
  loadFeaturesFile,
  readOrPanel,
  type StoredContexts,
} from "./diffing-files.ts";
import { LatentStatsReader, type LatentStatsRow, latentStatsFile } from "./diffing-latent-stats.ts";
import type { DiscoveredRun } from "./discovered-run.ts";
import { errorPanel } from "./read-run-file.ts";

const LOGIT_TOKENS = `features/${LOGIT_TOKENS_FILE}`;

/** Stage pairs of compare/latents.json, as the page labels them. */
const PAIRS: ReadonlyArray<[string, string]> = [
  ["S→D", "S_D"],
  ["S→M", "S_M"],
  ["D→DF", "D_DF"],
  ["M→MF", "M_MF"],
];

export async function featurePage(run: DiscoveredRun, stage: StageName, latent: number): Promise<FeaturePageResponse> {
  checkStage(stage);
  const errors: ErrorPanel[] = [];
  const table = await loadCompareTable(run, errors);
  const stats = await readStats(run, stage, latent, errors);
  const dSae = table?.dSae ?? stats?.dSae ?? null;
  checkLatent(latent, dSae);
  const row = table?.latents.find((r) => r.latent === latent) ?? null;
  const features = await loadFeaturesFile(run, errors);
  const logits = stats ? await logitEntries(run, stats, errors) : null;
  return {
    run: run.id,
    stage,
    latent,
    dSae: dSae ?? 0,
    hook: table?.hook ?? features?.hook ?? "",
    rank: row?.rank ?? null,
    contexts: contextsOf(features, latent),
    cosines: cosinesOf(row),
    logits,
    density: stats ? densityOf(stats.row, stats.tokens, stats.bins) : null,
    otherStages: await presentStages(run, stage),
    errors,
  };
}

export function checkStage(stage: string): asserts stage is StageName {
  if (!STAGES.includes(stage as StageName))
    throw new DashboardError("BAD_REQUEST", `stage must be one of ${STAGES.join(", ")}, got "${stage}"`, {
      field: "stage",
      expected: STAGES.join("|"),
      got: stage,
    });
}

export function checkLatent(latent: number, dSae: number | null): void {
  if (!Number.isInteger(latent) || latent < 0 || (dSae !== null && latent >= dSae))
    throw new DashboardError("NOT_FOUND", `latent ${latent} is not in this run's SAEs (d_sae ${dSae ?? "unknown"})`, {
      field: "latent",
      got: latent,
    });
}

export interface StageStats {
  row: LatentStatsRow;
  dSae: number;
  tokens: number;
  bins: number;
  model: "base" | "chat";
  unembedding: string;
  file: string;
}

/** This latent's rows of the stage's latent-stats file, or null with an error panel. */
export async function readStats(
  run: DiscoveredRun,
  stage: StageName,
  latent: number,
  errors: ErrorPanel[],
): Promise<StageStats | null> {
  let reader: LatentStatsReader;
  try {
    reader = await LatentStatsReader.open(run, stage);
  } catch (error) {
    errors.push(statsPanel(error, stage));
    return null;
  }
  checkLatent(latent, reader.header.dSae);
  const { dSae, tokens, bins, model, unembedding, file } = reader.header;
  try {
    return { row: reader.row(latent), dSae, tokens, bins, model, unembedding, file };
  } catch (error) {
    errors.push(errorPanel(error, file));
    return null;
  }
}

/** A stats file's panel; a missing one says how to make it (runs made before the features command stored it). */
export function statsPanel(error: unknown, stage: StageName): ErrorPanel {
  const panel = errorPanel(error, latentStatsFile(stage));
  if (error instanceof DashboardError && error.code === "NOT_FOUND") {
    const fix = "rerun `pnpm --filter diffing features --force --run-dir <this run>` to compute density and logits";
    return { ...panel, message: `${panel.message} — ${fix}` };
  }
  return panel;
}

/** The token strings of the top logits; ids without a string (a missing tokens file) show as `#id`. */
export async function logitEntries(
  run: DiscoveredRun,
  stats: StageStats,
  errors: ErrorPanel[],
): Promise<NonNullable<FeaturePageResponse["logits"]>> {
  const file = await readOrPanel<{ tokens?: Record<string, string> }>(run, LOGIT_TOKENS, errors);
  const tokens = file?.tokens ?? {};
  const entry = ({ id, value }: { id: number; value: number }): LogitEntry => ({
    token: tokens[id] ?? `#${id}`,
    id,
    value,
  });
  return { unembedding: stats.model, positive: stats.row.positive.map(entry), negative: stats.row.negative.map(entry) };
}

/** Density: firing frequency over the counted tokens and the histogram with its edges linspace(0, max, bins + 1). */
export function densityOf(row: LatentStatsRow, tokens: number, bins: number): FeaturePageResponse["density"] {
  const edges = Array.from({ length: bins + 1 }, (_, i) => (row.maxActivation * i) / bins);
  return { frequency: tokens > 0 ? row.firing / tokens : 0, tokens, edges, counts: row.histogram };
}

function contextsOf(features: FeaturesFile | null, latent: number): FeaturePageResponse["contexts"] {
  if (features === null) return { base: null, chat: null, note: "features/features.json could not be read" };
  const entry = features.latents.find((l) => l.latent === latent);
  if (!entry) {
    const n = features.latents.length;
    const note = `contexts were stored for ${n} latents, not this one (rerun \`diffing features --latents all\` to store every latent's)`;
    return { base: null, chat: null, note };
  }
  const side = (stored: StoredContexts, stage: string, model: "base" | "chat"): FeatureContexts => ({
    stage: stage as StageName,
    model,
    density: stored.density,
    maxValue: stored.maxValue,
    examples: stored.examples,
  });
  return {
    base: side(entry.base, features.baseStage, "base"),
    chat: side(entry.chat, features.chatStage, "chat"),
    note: null,
  };
}

function cosinesOf(row: CompareRow | null): FeaturePageResponse["cosines"] {
  const pick = (prefix: string) => {
    const out: Record<string, number> = {};
    if (row === null) return out;
    for (const [label, key] of PAIRS)
      if (typeof row[`${prefix}_${key}`] === "number") out[label] = row[`${prefix}_${key}`]!;
    return out;
  };
  return { decoder: pick("dec"), encoder: pick("enc") };
}

/** The stages of the run other than `stage` (a stage is present when stages/<name>/stage.json exists). */
async function presentStages(run: DiscoveredRun, stage: StageName): Promise<StageName[]> {
  const present = await Promise.all(
    STAGES.map((s) =>
      access(path.join(run.dir, "stages", s, "stage.json")).then(
        () => true,
        () => false,
      ),
    ),
  );
  return STAGES.filter((s, i) => present[i] && s !== stage);
}
