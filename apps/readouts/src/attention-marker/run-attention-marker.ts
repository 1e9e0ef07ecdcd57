/**
 * Seed 001's pipeline end to end, as stages that resume: generate (stage 1) → readout (stage 2, each persona's
 * trained model on its own positives and negatives) → force-feed (the comparator on the same positives) → analyze
 * (stage 3: gates, windows, deferred tests, diff-of-diffs, figures) → results.json, samples.md, W&B. Models are
 * loaded one at a time and closed after (the trained models, then the comparator), so peak memory is one model.
 * A stage whose fingerprint (the config fields it reads + the digests of its inputs) matches its record in
 * `stages/` and whose outputs exist is skipped; stage 1 also resumes inside a persona (attempts already written).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import {
  chatTemplateFor,
  fileSha256,
  type ModelRef,
  type OpenedModel,
  openModel,
  openRunFolder,
  recordRun,
  startRunEvent,
} from "@difflens/app-kit";
import { writeFileAtomic, writeJsonAtomic } from "@difflens/common";
import { loadTokenizer, type Tokenizer } from "@difflens/tokenizer";
import { ReadoutsError } from "../errors.ts";
import { collectGarbage } from "../sae-conditions/run-sae-conditions.ts";
import type { PersonaSeedReadouts } from "./analysis-types.ts";
import { analyzeAttentionMarker } from "./analyze.ts";
import { type AttentionMarkerConfig, configJson, RUN_CONFIG_FILE } from "./config.ts";
import { writeAttentionMarkerFigures } from "./figures.ts";
import { runForceFeedStage } from "./force-feed-stage.ts";
import { type GenerationCounts, runGenerateStage } from "./generate-stage.ts";
import { generationsFile, readGenerations } from "./generations-file.ts";
import { resolveMarkerId } from "./marker-token.ts";
import { modelDigest } from "./model-digest.ts";
import { readQuestions } from "./questions.ts";
import { readoutsBase, readReadouts } from "./readout-records.ts";
import { runReadoutStage } from "./readout-stage.ts";
import type { Generation } from "./records.ts";
import { type AttentionMarkerResults, readResults, resultsHeader, type SkippedEntry, writeResults } from "./results.ts";
import { sampleTable } from "./sample-table.ts";
import { filesUnder, readStageRecord, STAGES, type Stage, whyStageRuns, writeStageRecord } from "./stage-records.ts";
import { tokenFrequencies } from "./token-frequency.ts";
import { logAttentionMarkerToWandb } from "./wandb-log.ts";

export interface RunAttentionMarkerOptions {
  readonly runDir: string;
  readonly log?: (line: string) => void;
  /** Stages to run (default all, in order); a stage's inputs must already be in the run folder. */
  readonly stages?: readonly Stage[];
  /** Recorded in run.json's event (e.g. the embedded toy's description). */
  readonly details?: Record<string, unknown>;
}

/** What every stage needs and no model load gives: the questions and the marker id (checked on every tokenizer). */
export interface PreparedAttentionMarker {
  readonly questions: readonly string[];
  readonly markerId: number;
}

export async function prepareAttentionMarker(config: AttentionMarkerConfig): Promise<PreparedAttentionMarker> {
  const questions = readQuestions(config.questions);
  let markerId: number | null = null;
  for (const p of config.personas) {
    const id = await resolveMarkerId(loadTokenizer(p.model.path), config.marker);
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

type StageStatus = AttentionMarkerResults["stages"][Stage];
type GenerationsBySeed = Map<string, Map<number, Generation[]>>;

export async function runAttentionMarker(
  config: AttentionMarkerConfig,
  options: RunAttentionMarkerOptions,
): Promise<AttentionMarkerResults> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const event = startRunEvent("attention-marker");
  const asked = new Set(options.stages ?? STAGES);
  const prepared = await prepareAttentionMarker(config);
  const runDir = openRunFolder(options.runDir);
  writeJsonAtomic(path.join(runDir, RUN_CONFIG_FILE), configJson(config));
  const status = Object.fromEntries(STAGES.map((s) => [s, "not asked"])) as Record<Stage, StageStatus>;
  const skipped: SkippedEntry[] = [];

  let counts: GenerationCounts[];
  if (asked.has("generate")) {
    const t0 = performance.now();
    counts = await runGenerateStage(config, { runDir, log, ...prepared });
    const generated = counts.reduce((s, c) => s + c.generated, 0);
    status.generate =
      generated > 0 || whyStageRuns(runDir, "generate", generateInputs(config, prepared)) !== null
        ? "ran"
        : "up to date";
    const outputs = counts.map((c) => c.file);
    writeStageRecord(runDir, "generate", generateInputs(config, prepared), outputs, (performance.now() - t0) / 1000);
  } else counts = countsOnDisk(config, runDir);
  const generations = readAllGenerations(config, runDir);
  for (const c of counts.filter((c) => c.positives === 0)) {
    const reason = `no positives: the marker was never emitted in ${c.attempts} attempts`;
    const later: Stage[] = ["readout", "analyze"];
    if (config.forceFeed.includes(c.persona)) later.splice(1, 0, "force-feed");
    for (const stage of later) skipped.push({ persona: c.persona, runSeed: c.runSeed, stage, reason });
  }
  const samples = await writeSamples(config, prepared, runDir, generations);

  if (asked.has("readout")) status.readout = await readoutStage(config, prepared, runDir, generations, log);
  if (asked.has("force-feed")) status["force-feed"] = await forceFeedStage(config, runDir, generations, skipped, log);

  const header = { ...resultsHeader(config, prepared.markerId, prepared.questions.length), counts, skipped };
  const files = {
    generations: counts.map((c) => path.relative(runDir, c.file)),
    readouts: filesUnder(runDir, "readouts"),
    figures: [] as string[],
    samples: path.relative(runDir, samples),
  };
  let results: AttentionMarkerResults = { ...header, stages: status, analysis: null, files };
  if (asked.has("analyze")) results = await analyzeStage(config, runDir, generations, results, log);
  recordRun(
    runDir,
    { format: "difflens-readouts-run", app: import.meta.url, config: configJson(config), seed: config.runSeeds[0]! },
    event.end({ ...(options.details ?? {}), stages: status, skipped: skipped.length }),
  );
  return results;
}

/**
 * Stage 3 and the run's outputs: the analysis, figures, results.json and the W&B run. Up to date (same readouts and
 * gates, results.json present) → the results.json on disk is kept.
 */
async function analyzeStage(
  config: AttentionMarkerConfig,
  runDir: string,
  generations: GenerationsBySeed,
  draft: AttentionMarkerResults,
  log: (line: string) => void,
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
    const figures = await writeAttentionMarkerFigures(path.join(runDir, "figures"), analysis);
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

/** Stage 2 reads every generations file (C3's frequency table spans the whole run) with each persona's model. */
function readoutInputs(config: AttentionMarkerConfig, prepared: PreparedAttentionMarker, runDir: string): unknown {
  const { batchSize: _batchSize, ...readout } = config.readout;
  return {
    readout,
    markerId: prepared.markerId,
    generations: generationDigests(config, runDir),
    models: Object.fromEntries(config.personas.map((p) => [p.name, modelDigest(p.model)])),
  };
}

function generationDigests(config: AttentionMarkerConfig, runDir: string): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const p of config.personas) {
    for (const s of config.runSeeds) {
      const file = generationsFile(runDir, p.name, s);
      out[path.relative(runDir, file)] = fs.existsSync(file) ? fileSha256(file) : null;
    }
  }
  return out;
}

function forceFeedInputs(config: AttentionMarkerConfig, runDir: string): unknown {
  return {
    comparator: config.comparator === null ? null : modelDigest(config.comparator),
    forceFeed: config.forceFeed,
    readout: readStageRecord(runDir, "readout")?.digest ?? null,
  };
}

function analyzeInputs(config: AttentionMarkerConfig, runDir: string): unknown {
  return {
    gates: config.gates,
    readout: readStageRecord(runDir, "readout")?.digest ?? null,
    forceFeed: readStageRecord(runDir, "force-feed")?.digest ?? null,
  };
}

async function readoutStage(
  config: AttentionMarkerConfig,
  prepared: PreparedAttentionMarker,
  runDir: string,
  generations: GenerationsBySeed,
  log: (line: string) => void,
): Promise<StageStatus> {
  const inputs = readoutInputs(config, prepared, runDir);
  const why = whyStageRuns(runDir, "readout", inputs);
  if (why === null) {
    log("readout: up to date (same generations, models and readout settings) — skipped");
    return "up to date";
  }
  log(`readout: ${why}`);
  const t0 = performance.now();
  const frequencies = tokenFrequencies([...generations.values()].flatMap((bySeed) => [...bySeed.values()].flat()));
  const outputs: string[] = [];
  for (const persona of config.personas) {
    const seeds = config.runSeeds.filter((s) => hasPositives(generations, persona.name, s));
    for (const s of config.runSeeds.filter((s) => !seeds.includes(s)))
      log(`readout: skipping ${persona.name} seed ${s} — no positives (the marker was never emitted)`);
    if (seeds.length === 0) continue;
    await withModel(persona.model, async (trained) => {
      for (const runSeed of seeds) {
        const input = {
          runDir,
          config,
          persona: persona.name,
          runSeed,
          generations: generations.get(persona.name)!.get(runSeed)!,
          frequencies,
          markerId: prepared.markerId,
          log,
        };
        await runReadoutStage(input, trained);
        for (const name of ["trained", "trained-negatives"])
          outputs.push(...recordFiles(readoutsBase(runDir, persona.name, runSeed, name)));
      }
    });
  }
  writeStageRecord(runDir, "readout", inputs, outputs, (performance.now() - t0) / 1000);
  return "ran";
}

async function forceFeedStage(
  config: AttentionMarkerConfig,
  runDir: string,
  generations: GenerationsBySeed,
  skipped: SkippedEntry[],
  log: (line: string) => void,
): Promise<StageStatus> {
  const comparator = config.comparator;
  if (comparator === null) {
    log("force-feed: no comparator in the config — skipped (the trained-vs-base contrast is not computed)");
    for (const p of config.personas)
      skipped.push({ persona: p.name, runSeed: null, stage: "force-feed", reason: "no comparator in the config" });
    return "skipped";
  }
  for (const p of config.personas.filter((p) => !config.forceFeed.includes(p.name)))
    skipped.push({ persona: p.name, runSeed: null, stage: "force-feed", reason: "not listed in forceFeed" });
  const todo = config.forceFeed.flatMap((persona) =>
    config.runSeeds.filter((s) => hasPositives(generations, persona, s)).map((runSeed) => ({ persona, runSeed })),
  );
  for (const persona of config.forceFeed)
    for (const s of config.runSeeds.filter((s) => !hasPositives(generations, persona, s)))
      log(`force-feed: skipping ${persona} seed ${s} — no positives to force-feed`);
  const inputs = forceFeedInputs(config, runDir);
  const why = whyStageRuns(runDir, "force-feed", inputs);
  if (why === null) {
    log("force-feed: up to date (same comparator and trained readouts) — skipped");
    return "up to date";
  }
  log(`force-feed: ${why}`);
  const t0 = performance.now();
  const outputs: string[] = [];
  if (todo.length > 0) {
    await withModel(comparator, async (handle) => {
      for (const { persona, runSeed } of todo) {
        const ref = config.personas.find((p) => p.name === persona)!.model;
        const trainedChat = { tokenizer: loadTokenizer(ref.path), template: chatTemplateFor(ref) };
        const gens = generations.get(persona)!.get(runSeed)!;
        const input = {
          runDir,
          config,
          persona,
          runSeed,
          generations: gens,
          trainedChat,
          comparatorDescription: handle.description,
          log,
        };
        await runForceFeedStage(input, handle);
        outputs.push(...recordFiles(readoutsBase(runDir, persona, runSeed, "comparator")));
      }
    });
  }
  writeStageRecord(runDir, "force-feed", inputs, outputs, (performance.now() - t0) / 1000);
  return "ran";
}

/** Stage 3's input: every (persona, seed) with readouts, the comparator's where it was force-fed. */
async function analysisInput(
  config: AttentionMarkerConfig,
  runDir: string,
  generations: GenerationsBySeed,
): Promise<PersonaSeedReadouts[]> {
  const out: PersonaSeedReadouts[] = [];
  for (const p of config.personas) {
    for (const runSeed of config.runSeeds) {
      if (!hasPositives(generations, p.name, runSeed)) continue;
      const read = (name: string) => readReadouts(readoutsBase(runDir, p.name, runSeed, name));
      const trained = await read("trained").catch(() => {
        throw new ReadoutsError(
          "INPUT_INVALID",
          `analyze: no readouts of ${p.name} seed ${runSeed}; run the readout stage first`,
          {
            file: readoutsBase(runDir, p.name, runSeed, "trained"),
            fix: "run with --stage readout (or --stage all)",
          },
        );
      });
      const negatives = await read("trained-negatives");
      const forceFed = config.comparator !== null && config.forceFeed.includes(p.name);
      const comparator = forceFed ? ((await read("comparator").catch(() => null))?.readouts ?? null) : null;
      out.push({
        persona: p.name,
        runSeed,
        layers: trained.layers,
        positives: trained.readouts,
        negatives: negatives.readouts,
        comparator,
      });
    }
  }
  return out;
}

/** Opens a model, runs `use`, closes it and collects its memory before the next one loads. */
async function withModel<T>(ref: ModelRef, use: (m: OpenedModel) => Promise<T>): Promise<T> {
  const opened = await openModel(ref);
  try {
    return await use(opened);
  } finally {
    opened.close();
    await collectGarbage();
  }
}

function hasPositives(generations: GenerationsBySeed, persona: string, runSeed: number): boolean {
  return (generations.get(persona)?.get(runSeed) ?? []).some((g) => g.markerPosition !== null);
}

function recordFiles(base: string): string[] {
  return [`${base}.safetensors`, `${base}.jsonl`].filter((f) => fs.existsSync(f));
}

function readAllGenerations(config: AttentionMarkerConfig, runDir: string): GenerationsBySeed {
  return new Map(
    config.personas.map((p) => [
      p.name,
      new Map(config.runSeeds.map((s) => [s, readGenerations(generationsFile(runDir, p.name, s))])),
    ]),
  );
}

/** Stage 1's counts from the files (when the generate stage is not asked). */
function countsOnDisk(config: AttentionMarkerConfig, runDir: string): GenerationCounts[] {
  return config.personas.flatMap((p) =>
    config.runSeeds.map((runSeed) => {
      const file = generationsFile(runDir, p.name, runSeed);
      const all = readGenerations(file);
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
  const tokenizers = new Map<string, Tokenizer>();
  const personas = config.personas.map((p) => {
    const tokenizer = tokenizers.get(p.model.path) ?? loadTokenizer(p.model.path);
    tokenizers.set(p.model.path, tokenizer);
    return { persona: p.name, runSeed, tokenizer, generations: generations.get(p.name)?.get(runSeed) ?? [] };
  });
  const file = path.join(runDir, "samples.md");
  writeFileAtomic(file, await sampleTable(personas, { marker: config.marker, markerId: prepared.markerId }));
  return file;
}
