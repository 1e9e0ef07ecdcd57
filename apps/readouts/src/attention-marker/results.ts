/**
 * `results.json` of an attention-marker run: what ran (marker, settings, seeds), stage 1's counts per persona × run
 * seed, what later stages skipped and why, and stage 3's analysis (every number of the seed's tables, shape in
 * analysis-types.ts). Paths are relative to the run folder. Written atomically.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describeModelRef } from "@difflens/app-kit";
import { writeJsonAtomic } from "@difflens/common";
import type { AttentionMarkerAnalysis } from "./analysis-types.ts";
import type { AttentionMarkerConfig } from "./config.ts";
import type { GenerationCounts } from "./generate-stage.ts";
import type { Stage } from "./stage-records.ts";

/** A persona × run seed (or a whole persona: runSeed null) a stage left out, and why. */
export interface SkippedEntry {
  readonly persona: string;
  readonly runSeed: number | null;
  readonly stage: Stage;
  readonly reason: string;
}

export interface AttentionMarkerResults {
  readonly format: "difflens-attention-marker-results";
  readonly version: 1;
  readonly name: string;
  readonly marker: string;
  /** The marker's first token id (t* is the first generated position with this input token). */
  readonly markerId: number;
  readonly runSeeds: readonly number[];
  readonly personas: readonly { readonly name: string; readonly model: string }[];
  readonly comparator: string | null;
  readonly forceFeed: readonly string[];
  readonly questions: { readonly source: string; readonly count: number };
  readonly attempts: number;
  readonly generation: AttentionMarkerConfig["generation"];
  /** Readout position = t* + offset. */
  readonly offset: number;
  readonly counts: readonly GenerationCounts[];
  readonly skipped: readonly SkippedEntry[];
  /**
   * Per stage: "ran", "up to date" (same inputs, outputs present: not rerun), "skipped" (nothing to do: no comparator,
   * no positives) or "not asked" (--stage).
   */
  readonly stages: Readonly<Record<Stage, "ran" | "up to date" | "skipped" | "not asked">>;
  readonly analysis: AttentionMarkerAnalysis | null;
  readonly files: {
    readonly generations: readonly string[];
    readonly readouts: readonly string[];
    readonly figures: readonly string[];
    readonly samples: string | null;
  };
}

export const RESULTS_FILE = "results.json";

export function resultsHeader(
  config: AttentionMarkerConfig,
  markerId: number,
  questionCount: number,
): Pick<
  AttentionMarkerResults,
  | "format"
  | "version"
  | "name"
  | "marker"
  | "markerId"
  | "runSeeds"
  | "personas"
  | "comparator"
  | "forceFeed"
  | "questions"
  | "attempts"
  | "generation"
  | "offset"
> {
  return {
    format: "difflens-attention-marker-results",
    version: 1,
    name: config.name,
    marker: config.marker,
    markerId,
    runSeeds: config.runSeeds,
    personas: config.personas.map((p) => ({ name: p.name, model: describeModelRef(p.model) })),
    comparator: config.comparator === null ? null : describeModelRef(config.comparator),
    forceFeed: config.forceFeed,
    questions: { source: config.questions, count: questionCount },
    attempts: config.attempts,
    generation: config.generation,
    offset: config.readout.offset,
  };
}

export function writeResults(runDir: string, results: AttentionMarkerResults): string {
  const file = path.join(runDir, RESULTS_FILE);
  writeJsonAtomic(file, results);
  return file;
}

export function readResults(runDir: string): AttentionMarkerResults | null {
  const file = path.join(runDir, RESULTS_FILE);
  if (!fs.existsSync(file)) return null;
  return JSON.parse(fs.readFileSync(file, "utf8")) as AttentionMarkerResults;
}
