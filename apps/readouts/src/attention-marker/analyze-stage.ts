/**
 * Stage 3 as the orchestrator runs it, with the run's outputs: the analysis (analyze.ts) of every persona × seed with
 * positives, the figures, results.json and the W&B run. Up to date (same readouts and gates, results.json present)
 * → the results.json on disk is kept.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { ImageFormat } from "@difflens/plot";
import { ReadoutsError } from "../errors.ts";
import type { PersonaSeedReadouts } from "./analysis-types.ts";
import { analyzeAttentionMarker } from "./analyze.ts";
import { type AttentionMarkerConfig, RUN_CONFIG_FILE } from "./config.ts";
import { writeAttentionMarkerFigures } from "./figures.ts";
import { type GenerationsBySeed, hasPositives, type StageStatus } from "./model-stages.ts";
import { readoutsBase, readPersonaSeedReadouts } from "./readout-records.ts";
import { type AttentionMarkerResults, readResults, writeResults } from "./results.ts";
import { readStageRecord, type Stage, whyStageRuns, writeStageRecord } from "./stage-records.ts";
import { logAttentionMarkerToWandb } from "./wandb-log.ts";

/**
 * Stage 3 and the run's outputs: the analysis, figures, results.json and the W&B run. Up to date (same readouts and
 * gates, results.json present) → the results.json on disk is kept.
 */
export async function analyzeStage(
  config: AttentionMarkerConfig,
  runDir: string,
  generations: GenerationsBySeed,
  draft: AttentionMarkerResults,
  log: (line: string) => void,
  figureFormats?: ImageFormat[],
): Promise<AttentionMarkerResults> {
  const status = draft.stages as Record<Stage, StageStatus>;
  const inputs = analyzeInputs(config, runDir);
  const prior = readResults(runDir);
  if (whyStageRuns(runDir, "analyze", inputs) === null && prior !== null) {
    log("analyze: up to date (same readouts and gates) — results.json kept");
    status.analyze = "up to date";
    return { ...prior, stages: status };
  }
  const t0 = performance.now();
  const input = await analysisInput(config, runDir, generations);
  let results = draft;
  const outputs: string[] = [];
  if (input.length === 0) {
    log("analyze: no persona has positives under any run seed — nothing to analyze");
    status.analyze = "skipped";
  } else {
    const analysis = analyzeAttentionMarker(input, config.gates);
    const formats = figureFormats === undefined ? {} : { formats: figureFormats };
    const figures = figureFiles(await writeAttentionMarkerFigures(path.join(runDir, "figures"), analysis, formats));
    const skipped = [...draft.skipped];
    for (const s of analysis.skipped)
      if (!skipped.some((k) => k.stage === "analyze" && k.persona === s.persona && k.runSeed === s.runSeed))
        skipped.push({ persona: s.persona, runSeed: s.runSeed, stage: "analyze", reason: s.reason });
    status.analyze = "ran";
    const files = { ...draft.files, figures: figures.map((f) => path.relative(runDir, f)) };
    results = { ...draft, skipped, analysis, files };
    outputs.push(...figures);
  }
  const resultsFile = writeResults(runDir, results);
  outputs.push(resultsFile);
  const { generations: gens, readouts } = results.files;
  const uploads = [
    ...outputs,
    path.join(runDir, results.files.samples ?? "samples.md"),
    path.join(runDir, RUN_CONFIG_FILE),
  ];
  uploads.push(...[...gens, ...readouts].map((f) => path.join(runDir, f)));
  const wandbFolder = await logAttentionMarkerToWandb(config, results, runDir, uploads, log);
  if (wandbFolder !== null) log(`wandb: ${path.relative(runDir, wandbFolder)} (pnpm difflens-wandb sync uploads it)`);
  writeStageRecord(runDir, "analyze", inputs, outputs, (performance.now() - t0) / 1000);
  return results;
}

function analyzeInputs(config: AttentionMarkerConfig, runDir: string): unknown {
  return {
    gates: config.gates,
    readout: readStageRecord(runDir, "readout")?.digest ?? null,
    forceFeed: readStageRecord(runDir, "force-feed")?.digest ?? null,
  };
}

/** Stage 3's input: every (persona, seed) with positives; the comparator's readouts where the config force-feeds. */
async function analysisInput(
  config: AttentionMarkerConfig,
  runDir: string,
  generations: GenerationsBySeed,
): Promise<PersonaSeedReadouts[]> {
  const out: PersonaSeedReadouts[] = [];
  for (const p of config.personas) {
    const forceFed = config.comparator !== null && config.forceFeed.includes(p.name);
    for (const runSeed of config.runSeeds) {
      if (!hasPositives(generations, p.name, runSeed)) continue;
      const base = readoutsBase(runDir, p.name, runSeed, "trained");
      if (!fs.existsSync(`${base}.safetensors`))
        throw new ReadoutsError("INPUT_INVALID", `analyze: no readouts of ${p.name} seed ${runSeed} (${base}.*)`, {
          file: base,
          fix: "run the readout stage first (--stage readout, or --stage all)",
        });
      const readouts = await readPersonaSeedReadouts(runDir, p.name, runSeed);
      out.push(forceFed ? readouts : { ...readouts, comparator: null });
    }
  }
  return out;
}

/** The files of each figure (base paths from the figure writer): PNG, PDF, SVG and the data beside them. */
function figureFiles(bases: readonly string[]): string[] {
  return bases.flatMap((b) =>
    ["png", "pdf", "svg", "json", "csv"].map((e) => `${b}.${e}`).filter((f) => fs.existsSync(f)),
  );
}
