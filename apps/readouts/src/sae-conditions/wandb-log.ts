/** The run's W&B record (offline by default: a local folder inside the run folder, `pnpm difflens-wandb sync` uploads it). */
import * as path from "node:path";
import { openWandbRun } from "../wandb-run.ts";
import type { SaeConditionsConfig } from "./config.ts";
import { allReadouts, type LayerResults, type SaeConditionsResults } from "./results.ts";

/** Logs one step per layer (Track A p, Track B counts, similarities; keys prefixed by the position when several) and the results' files; returns the folder or null. */
export async function logToWandb(
  config: SaeConditionsConfig,
  results: SaeConditionsResults,
  runDir: string,
  files: readonly string[],
  log: (line: string) => void,
): Promise<string | null> {
  if (config.wandb.mode === "disabled") return null;
  const run = openWandbRun(
    config.wandb,
    runDir,
    {
      name: config.name,
      jobType: "sae-conditions",
      config: {
        positions: results.positions,
        encodeRule: results.encodeRule,
        layers: config.layers,
        conditions: results.conditions.map((c) => c.label),
        nPrompts: results.nPrompts,
        model: results.model,
      },
    },
    log,
  );
  const readouts = allReadouts(results);
  for (const [step, layer] of config.layers.entries()) {
    const metrics: Record<string, number> = { layer };
    for (const readout of readouts) {
      const prefix = readouts.length > 1 ? `${readout.position}/` : "";
      Object.assign(metrics, layerMetrics(readout.layers[step]!, prefix));
    }
    run.log(metrics, step);
  }
  for (const file of files) run.saveFile(path.relative(runDir, file), { path: file });
  const done = await run.finish({ exitCode: 0 });
  return done.folder ?? null;
}

function layerMetrics(l: LayerResults, prefix: string): Record<string, number> {
  const metrics: Record<string, number> = { mean_l0: l.meanL0 };
  for (const b of l.trackB) {
    const key = b.pair.join(" vs ");
    metrics[`trackB/${key}/familywise`] = b.counts.familywise;
    metrics[`trackB/${key}/per_feature`] = b.counts.perFeature;
    metrics[`trackB/${key}/degenerate`] = b.counts.degenerate;
  }
  for (const a of l.trackA ?? []) {
    const key = a.pair.join(" vs ");
    metrics[`trackA/${key}/T`] = a.statistic;
    metrics[`trackA/${key}/null_mean`] = a.nullMean;
    metrics[`trackA/${key}/p`] = a.pValue;
  }
  const { labels, matrix } = l.similarity;
  for (let i = 0; i < labels.length; i++) {
    for (let j = i + 1; j < labels.length; j++) {
      const v = matrix[i]![j];
      if (v !== null && v !== undefined) metrics[`similarity/${labels[i]} vs ${labels[j]}`] = v;
    }
  }
  return Object.fromEntries(Object.entries(metrics).map(([k, v]) => [`${prefix}${k}`, v]));
}
