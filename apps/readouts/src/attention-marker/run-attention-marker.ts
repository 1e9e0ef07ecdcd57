/**
 * Seed 001's pipeline end to end, as stages that resume: generate (stage 1) → readout (stage 2, each persona's
 * trained model on its own positives and negatives) → force-feed (the comparator on the same positives) → analyze
 * (stage 3: gates, windows, deferred tests, diff-of-diffs, figures) → results.json, samples.md, W&B. Models are
 * loaded one at a time and closed after (the trained models, then the comparator), so peak memory is one model.
 * A stage whose fingerprint (the config fields it reads + the digests of its inputs) matches its record in
 * `stages/` and whose outputs exist is skipped; stage 1 also resumes inside a persona (attempts already written).
 */
import * as path from "node:path";
import { checkModelFolder, describeModelRef, openRunFolder, recordRun, startRunEvent } from "@difflens/app-kit";
import { writeFileAtomic, writeJsonAtomic } from "@difflens/common";
import type { ImageFormat } from "@difflens/plot";
import { ReadoutsError } from "../errors.ts";
import { wrap } from "../sae-conditions/check-inputs.ts";
import { analyzeStage } from "./analyze-stage.ts";
import { type AttentionMarkerConfig, configJson, RUN_CONFIG_FILE } from "./config.ts";
import { type GenerationCounts, runGenerateStage } from "./generate-stage.ts";
import { generationsFile, readGenerations } from "./generations-file.ts";
import { resolveMarkerId } from "./marker-token.ts";
import { modelDigest } from "./model-digest.ts";
import { forceFeedStage, type GenerationsBySeed, readoutStage, type StageStatus } from "./model-stages.ts";
import { tokenizerOf } from "./opened-models.ts";
import { readQuestions } from "./questions.ts";
import { type AttentionMarkerResults, resultsHeader, type SkippedEntry } from "./results.ts";
import { sampleTable } from "./sample-table.ts";
import { filesUnder, STAGES, type Stage, whyStageRuns, writeStageRecord } from "./stage-records.ts";
import { assertSameVocabulary, type VocabularyFingerprint, vocabularyFingerprint } from "./vocabulary-check.ts";

export interface RunAttentionMarkerOptions {
  readonly runDir: string;
  readonly log?: (line: string) => void;
  /** Stages to run (default all, in order); a stage's inputs must already be in the run folder. */
  readonly stages?: readonly Stage[];
  /** Recorded in run.json's event (e.g. the embedded toy's description). */
  readonly details?: Record<string, unknown>;
  /** Figure formats (default PNG, PDF and SVG; tests render SVG alone). */
  readonly figureFormats?: ImageFormat[];
}

/** What every stage needs and no model load gives: the questions and the marker id (checked on every tokenizer). */
export interface PreparedAttentionMarker {
  readonly questions: readonly string[];
  readonly markerId: number;
}

export async function prepareAttentionMarker(config: AttentionMarkerConfig): Promise<PreparedAttentionMarker> {
  const questions = readQuestions(config.questions);
  const models = config.personas.map((p, i) => ({ field: `personas[${i}].model`, ref: p.model, name: p.name }));
  if (config.comparator !== null) models.push({ field: "comparator", ref: config.comparator, name: "comparator" });
  const vocabularies = new Map<string, VocabularyFingerprint>();
  for (const { field, ref, name } of models) {
    const checked = await wrap(field, describeModelRef(ref), () => checkModelFolder(ref));
    if (name === "comparator" || config.forceFeed.includes(name))
      vocabularies.set(name, vocabularyFingerprint(checked, await wrap(field, ref.path, () => tokenizerOf(ref))));
    const layers = config.readout.layers === "all" ? [] : config.readout.layers;
    const beyond = layers.find((l) => l >= checked.config.nLayers);
    if (beyond !== undefined)
      throw new ReadoutsError(
        "INPUT_INVALID",
        `readout.layers: layer ${beyond} is beyond ${field} (${checked.folder} has ${checked.config.nLayers} layers); expected 0–${checked.config.nLayers - 1}`,
        { file: checked.folder, field: "readout.layers", expected: `0–${checked.config.nLayers - 1}`, got: beyond },
      );
  }
  // The force-feed's precondition, checked before anything runs (the force-feed stage checks again on the models).
  for (const persona of config.forceFeed) {
    const describe = { trained: `of persona ${persona}`, comparator: describeModelRef(config.comparator!) };
    assertSameVocabulary(vocabularies.get(persona)!, vocabularies.get("comparator")!, describe);
  }
  let markerId: number | null = null;
  for (const p of config.personas) {
    const id = await resolveMarkerId(tokenizerOf(p.model), config.marker);
    if (markerId !== null && id !== markerId)
      throw new ReadoutsError(
        "INPUT_INVALID",
        `marker ${JSON.stringify(config.marker)} is token ${id} for persona ${p.name} but ${markerId} for ${config.personas[0]!.name}; expected personas whose models share one vocabulary`,
        { field: `personas.${p.name}.model` },
      );
    markerId = id;
  }
  return { questions, markerId: markerId! };
}

export async function runAttentionMarker(
  config: AttentionMarkerConfig,
  options: RunAttentionMarkerOptions,
): Promise<AttentionMarkerResults> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const event = startRunEvent("attention-marker");
  const asked = new Set(options.stages ?? STAGES);
  const prepared = await prepareAttentionMarker(config);
  // Later stages alone need stage 1 complete: checked before anything is written.
  let counts = asked.has("generate") ? [] : countsOnDisk(config, path.resolve(options.runDir));
  const runDir = openRunFolder(options.runDir);
  writeJsonAtomic(path.join(runDir, RUN_CONFIG_FILE), configJson(config));
  const status = Object.fromEntries(STAGES.map((s) => [s, "not asked"])) as Record<Stage, StageStatus>;
  const skipped: SkippedEntry[] = [];

  if (asked.has("generate")) {
    const t0 = performance.now();
    counts = await runGenerateStage(config, { runDir, log, ...prepared });
    const inputs = generateInputs(config, prepared);
    const generated = counts.reduce((s, c) => s + c.generated, 0);
    status.generate = generated > 0 || whyStageRuns(runDir, "generate", inputs) !== null ? "ran" : "up to date";
    writeStageRecord(
      runDir,
      "generate",
      inputs,
      counts.map((c) => c.file),
      (performance.now() - t0) / 1000,
    );
  }
  const generations = readAllGenerations(config, runDir);
  for (const c of counts.filter((c) => c.positives === 0)) {
    const reason = `no positives: the marker was never emitted in ${c.attempts} attempts`;
    const later: Stage[] = ["readout", "analyze"];
    if (config.forceFeed.includes(c.persona)) later.splice(1, 0, "force-feed");
    for (const stage of later) skipped.push({ persona: c.persona, runSeed: c.runSeed, stage, reason });
  }
  const samples = await writeSamples(config, prepared, runDir, generations);

  if (asked.has("readout")) status.readout = await readoutStage(config, prepared.markerId, runDir, generations, log);
  if (asked.has("force-feed")) status["force-feed"] = await forceFeedStage(config, runDir, generations, skipped, log);

  const header = { ...resultsHeader(config, prepared.markerId, prepared.questions.length), counts, skipped };
  const files = {
    generations: counts.map((c) => path.relative(runDir, c.file)),
    readouts: filesUnder(runDir, "readouts"),
    figures: [] as string[],
    samples: path.relative(runDir, samples),
  };
  let results: AttentionMarkerResults = { ...header, stages: status, analysis: null, files };
  if (asked.has("analyze"))
    results = await analyzeStage(config, runDir, generations, results, log, options.figureFormats);
  recordRun(
    runDir,
    { format: "difflens-readouts-run", app: import.meta.url, config: configJson(config), seed: config.runSeeds[0]! },
    event.end({ ...(options.details ?? {}), stages: status, skipped: skipped.length }),
  );
  return results;
}

/** What stage 1 depends on (batch size left out: tokens do not depend on it). */
function generateInputs(config: AttentionMarkerConfig, prepared: PreparedAttentionMarker): unknown {
  const { batchSize: _batchSize, ...settings } = config.generation;
  return {
    personas: config.personas.map((p) => ({ name: p.name, systemPrompt: p.systemPrompt, model: modelDigest(p.model) })),
    questions: prepared.questions,
    marker: config.marker,
    markerId: prepared.markerId,
    settings,
    attempts: config.attempts,
    runSeeds: config.runSeeds,
  };
}

function readAllGenerations(config: AttentionMarkerConfig, runDir: string): GenerationsBySeed {
  return new Map(
    config.personas.map((p) => [
      p.name,
      new Map(config.runSeeds.map((s) => [s, readGenerations(generationsFile(runDir, p.name, s))])),
    ]),
  );
}

/** Stage 1's counts from the files (when the generate stage is not asked): every file must be complete. */
function countsOnDisk(config: AttentionMarkerConfig, runDir: string): GenerationCounts[] {
  return config.personas.flatMap((p) =>
    config.runSeeds.map((runSeed) => {
      const file = generationsFile(runDir, p.name, runSeed);
      const all = readGenerations(file);
      if (all.length < config.attempts)
        throw new ReadoutsError(
          "INPUT_INVALID",
          `${file}: ${all.length} of ${config.attempts} attempts generated; the later stages need stage 1 complete`,
          { file, fix: "run the generate stage first (--stage generate, or --stage all)" },
        );
      const positives = all.filter((g) => g.markerPosition !== null).length;
      return {
        persona: p.name,
        runSeed,
        file,
        attempts: all.length,
        positives,
        negatives: all.length - positives,
        resumed: all.length,
        generated: 0,
      };
    }),
  );
}

/** samples.md from the first run seed of every persona. */
async function writeSamples(
  config: AttentionMarkerConfig,
  prepared: PreparedAttentionMarker,
  runDir: string,
  generations: GenerationsBySeed,
): Promise<string> {
  const runSeed = config.runSeeds[0]!;
  const personas = config.personas.map((p) => ({
    persona: p.name,
    runSeed,
    tokenizer: tokenizerOf(p.model),
    generations: generations.get(p.name)?.get(runSeed) ?? [],
  }));
  const file = path.join(runDir, "samples.md");
  writeFileAtomic(file, await sampleTable(personas, { marker: config.marker, markerId: prepared.markerId }));
  return file;
}
