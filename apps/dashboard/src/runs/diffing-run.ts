/**
 * A diffing run's page: its stages (stages/<S|D|M|DF|MF>/stage.json), the two-stage ranking (compare/ranking.json),
 * per stage a histogram of the latents' firing frequencies over the features dataset (log10 bins, from the
 * latent-stats files' firing_count) and the comparison figures (compare/two-stage-*.json + .png). Each missing or
 * malformed file is an error panel naming it; the rest of the page still comes back.
 */
import { access } from "node:fs/promises";
import * as path from "node:path";
import { type DiffingRunResponse, STAGES, type StageName } from "../api/diffing-types.ts";
import type { ErrorPanel } from "../api/run-types.ts";
import { loadCompareTable, loadRanking, readOrPanel } from "./diffing-files.ts";
import { LatentStatsReader } from "./diffing-latent-stats.ts";
import type { DiscoveredRun } from "./discovered-run.ts";
import { statsPanel } from "./feature-page.ts";

const FIGURES = ["two-stage-decoder", "two-stage-decoder-zoom", "two-stage-encoder", "two-stage-encoder-zoom"];
/** Width of the log10 frequency bins of the run-level density histogram. */
const LOG10_BIN = 0.25;

export async function diffingRun(run: DiscoveredRun): Promise<DiffingRunResponse> {
  const errors: ErrorPanel[] = [...run.errors];
  const config = (run.runJson?.config ?? {}) as { name?: unknown; hook?: unknown; sae?: { dSae?: unknown } };
  const table = await loadCompareTable(run, errors);
  const ranking = await loadRanking(run, errors);
  const stages = await Promise.all(STAGES.map((stage) => stageSummary(run, stage, errors)));
  const densityHistograms = [];
  for (const { stage, status } of stages) {
    if (status === "missing") continue;
    const histogram = await densityHistogram(run, stage, errors);
    if (histogram) densityHistograms.push(histogram);
  }
  return {
    run: run.id,
    name: typeof config.name === "string" ? config.name : path.basename(run.dir),
    hook: table?.hook ?? (typeof config.hook === "string" ? config.hook : null),
    dSae: table?.dSae ?? (typeof config.sae?.dSae === "number" ? config.sae.dSae : null),
    stages,
    top: ranking?.top ?? [],
    encoderTop: ranking?.encoderTop ?? [],
    densityHistograms,
    figures: await figures(run, errors),
    errors,
  };
}

async function stageSummary(
  run: DiscoveredRun,
  stage: StageName,
  errors: ErrorPanel[],
): Promise<DiffingRunResponse["stages"][number]> {
  const file = `stages/${stage}/stage.json`;
  const record = await readOrPanel<Record<string, unknown>>(run, file, errors);
  if (record === null) return { stage, status: "missing", checkpoint: null, model: null, step: null };
  const text = (v: unknown) => (typeof v === "string" ? v : null);
  return {
    stage,
    status: text(record.status) ?? "unknown",
    checkpoint: text(record.checkpoint),
    model: text(record.model),
    step: typeof record.step === "number" ? record.step : null,
  };
}

async function densityHistogram(
  run: DiscoveredRun,
  stage: StageName,
  errors: ErrorPanel[],
): Promise<DiffingRunResponse["densityHistograms"][number] | null> {
  let firing: Int32Array;
  let tokens: number;
  try {
    const reader = await LatentStatsReader.open(run, stage);
    firing = reader.firingCounts();
    tokens = reader.header.tokens;
  } catch (error) {
    errors.push(statsPanel(error, stage));
    return null;
  }
  return { stage, ...log10Histogram(firing, tokens) };
}

/** Firing frequencies in LOG10_BIN-wide log10 bins from the smallest possible one (1 / tokens) to 1; dead apart. */
export function log10Histogram(
  firing: Int32Array,
  tokens: number,
): { edgesLog10: number[]; counts: number[]; dead: number; tokens: number } {
  const low = tokens > 0 ? Math.floor(Math.log10(1 / tokens) / LOG10_BIN) * LOG10_BIN : -1;
  const bins = Math.max(1, Math.round(-low / LOG10_BIN));
  const edgesLog10 = Array.from({ length: bins + 1 }, (_, i) => low + i * LOG10_BIN);
  const counts = new Array<number>(bins).fill(0);
  let dead = 0;
  for (const n of firing) {
    if (n === 0 || tokens === 0) {
      dead++;
      continue;
    }
    const bin = Math.floor((Math.log10(n / tokens) - low) / LOG10_BIN);
    counts[Math.min(bins - 1, Math.max(0, bin))]!++;
  }
  return { edgesLog10, counts, dead, tokens };
}

async function figures(run: DiscoveredRun, errors: ErrorPanel[]): Promise<DiffingRunResponse["figures"]> {
  const out: DiffingRunResponse["figures"] = [];
  for (const name of FIGURES) {
    const file = `compare/${name}.json`;
    const png = `compare/${name}.png`;
    const hasPng = await exists(path.join(run.dir, png));
    if (!(await exists(path.join(run.dir, file)))) {
      if (hasPng) out.push({ file: png, png, title: null });
      continue;
    }
    const figure = await readOrPanel<{ title?: unknown }>(run, file, errors);
    const title = typeof figure?.title === "string" ? figure.title : null;
    out.push({ file, png: hasPng ? png : null, title });
  }
  return out;
}

function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}
