/**
 * The run's W&B record (offline by default: a folder inside the run folder, `pnpm difflens-wandb sync` uploads it):
 * the config, summary metrics (stage-1 counts, each persona's pooled headline numbers), and as run files the
 * results, figures, sample table and the per-example records (generations JSONL, readouts safetensors + JSONL) — so
 * the records are durable with the run and sync later.
 */
import * as path from "node:path";
import type { MetricValue } from "@difflens/wandb";
import { openWandbRun } from "../wandb-run.ts";
import type { AttentionMarkerConfig } from "./config.ts";
import type { AttentionMarkerResults } from "./results.ts";

/** Returns the W&B folder (null when disabled). `files` are absolute paths inside the run folder. */
export async function logAttentionMarkerToWandb(
  config: AttentionMarkerConfig,
  results: AttentionMarkerResults,
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
      jobType: "attention-marker",
      config: {
        marker: results.marker,
        markerId: results.markerId,
        personas: results.personas,
        comparator: results.comparator,
        forceFeed: results.forceFeed,
        runSeeds: results.runSeeds,
        attempts: results.attempts,
        generation: results.generation,
        readout: config.readout,
        gates: config.gates,
      },
    },
    log,
  );
  run.summary(summaryMetrics(results));
  for (const file of files) run.saveFile(path.relative(runDir, file), { path: file });
  const done = await run.finish({ exitCode: 0 });
  return done.folder ?? null;
}

/** Flat summary keys: `<persona>/seed-<S>/positives`, `<persona>/pooled/<path of each scalar>`, `skipped`. */
export function summaryMetrics(results: AttentionMarkerResults): Record<string, MetricValue> {
  const out: Record<string, MetricValue> = { skipped: results.skipped.length };
  for (const c of results.counts) {
    const key = `${c.persona}/seed-${c.runSeed}`;
    out[`${key}/positives`] = c.positives;
    out[`${key}/negatives`] = c.negatives;
    out[`${key}/rate`] = c.attempts > 0 ? c.positives / c.attempts : 0;
  }
  for (const p of results.analysis?.personas ?? []) flattenScalars(p.pooled, `${p.persona}/pooled`, out);
  return out;
}

/** The numbers, booleans and strings of `value` (arrays left out: per-layer profiles live in results.json). */
function flattenScalars(value: unknown, prefix: string, out: Record<string, MetricValue>): void {
  if (value === null || Array.isArray(value)) return;
  if (typeof value === "object") {
    for (const [k, v] of Object.entries(value)) flattenScalars(v, `${prefix}/${k}`, out);
    return;
  }
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "string") out[prefix] = value;
}
