/**
 * The stages that load models, as the orchestrator runs them: readout (each persona's trained model on its own
 * positives and negatives, stage 2) and force-feed (the comparator on the same positives). Each is skipped when its
 * fingerprint — the config fields it reads, the digests of its inputs and models — matches its stage record and its
 * outputs exist. One model at a time: opened, used for every run seed, closed and collected before the next.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { chatTemplateFor, fileSha256, type ModelRef, type OpenedModel } from "@difflens/app-kit";
import { collectGarbage } from "../sae-conditions/run-sae-conditions.ts";
import type { AttentionMarkerConfig } from "./config.ts";
import { runForceFeedStage } from "./force-feed-stage.ts";
import { generationsFile } from "./generations-file.ts";
import { modelDigest } from "./model-digest.ts";
import { openModelRef, tokenizerOf } from "./opened-models.ts";
import { readoutsBase } from "./readout-records.ts";
import { runReadoutStage } from "./readout-stage.ts";
import type { Generation } from "./records.ts";
import type { AttentionMarkerResults, SkippedEntry } from "./results.ts";
import {
  beginStage,
  readStageRecord,
  removeFiles,
  type Stage,
  whyStageRuns,
  writeStageRecord,
} from "./stage-records.ts";
import { tokenFrequencies } from "./token-frequency.ts";

export type StageStatus = AttentionMarkerResults["stages"][Stage];
/** Stage 1's generations: persona → run seed → generations in trial order. */
export type GenerationsBySeed = Map<string, Map<number, Generation[]>>;

export async function readoutStage(
  config: AttentionMarkerConfig,
  markerId: number,
  runDir: string,
  generations: GenerationsBySeed,
  log: (line: string) => void,
): Promise<StageStatus> {
  const inputs = readoutInputs(config, markerId, runDir);
  const why = whyStageRuns(runDir, "readout", inputs);
  if (why === null) {
    log("readout: up to date (same generations, models and readout settings) — skipped");
    return "up to date";
  }
  log(`readout: ${why}`);
  if (beginStage(runDir, "readout", inputs)) removeFiles(runDir, "readouts", /\/(trained|trained-negatives)\./);
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
          markerId,
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

export async function forceFeedStage(
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
  if (beginStage(runDir, "force-feed", inputs)) removeFiles(runDir, "readouts", /\/comparator\./);
  const t0 = performance.now();
  const outputs: string[] = [];
  if (todo.length > 0) {
    await withModel(comparator, async (handle) => {
      for (const { persona, runSeed } of todo) {
        const ref = config.personas.find((p) => p.name === persona)!.model;
        const trainedChat = { tokenizer: tokenizerOf(ref), template: chatTemplateFor(ref) };
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

/** Stage 2 reads every generations file (C3's frequency table spans the whole run) with each persona's model. */
function readoutInputs(config: AttentionMarkerConfig, markerId: number, runDir: string): unknown {
  const { batchSize: _batchSize, ...readout } = config.readout;
  return {
    readout,
    markerId,
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

/** Opens a model, runs `use`, closes it and collects its memory before the next one loads. */
async function withModel<T>(ref: ModelRef, use: (m: OpenedModel) => Promise<T>): Promise<T> {
  const opened = await openModelRef(ref);
  try {
    return await use(opened);
  } finally {
    opened.close();
    await collectGarbage();
  }
}

export function hasPositives(generations: GenerationsBySeed, persona: string, runSeed: number): boolean {
  return (generations.get(persona)?.get(runSeed) ?? []).some((g) => g.markerPosition !== null);
}

function recordFiles(base: string): string[] {
  return [`${base}.safetensors`, `${base}.jsonl`].filter((f) => fs.existsSync(f));
}
