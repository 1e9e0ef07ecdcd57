/**
 * What every follow-up reads from an attention-marker run folder: its resolved `config.json` (personas and their
 * trained models, the comparator, the run seeds) and stage 1's positives, each cut to the tokens 0 … t* − 1 so the
 * last one is the emitting position t* − 1 (records.ts defines t*).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { ModelRef } from "@difflens/app-kit";
import { type AttentionMarkerConfig, RUN_CONFIG_FILE, readRunConfig } from "../attention-marker/config.ts";
import { generationsFile, readGenerations } from "../attention-marker/generations-file.ts";
import type { Generation } from "../attention-marker/records.ts";
import { ReadoutsError } from "../errors.ts";

/** One positive, read at its emitting position. */
export interface EmitExample {
  readonly persona: string;
  readonly runSeed: number;
  readonly trial: number;
  readonly questionIndex: number;
  /** promptIds ++ generatedIds, positions 0 … t* − 1: the last token is where the marker is predicted. */
  readonly tokens: readonly number[];
}

/** Which positive a per-example row belongs to (the keys of its Generation record). */
export function exampleId(e: EmitExample): { persona: string; runSeed: number; trial: number; questionIndex: number } {
  return { persona: e.persona, runSeed: e.runSeed, trial: e.trial, questionIndex: e.questionIndex };
}

export interface PersonaPositives {
  readonly persona: string;
  readonly model: ModelRef;
  /** Every run seed's positives, in (seed, trial) order; [] when the persona emitted no marker (reported). */
  readonly examples: readonly EmitExample[];
}

export interface FollowUpInputs {
  readonly runDir: string;
  readonly config: AttentionMarkerConfig;
  readonly markerId: number;
  readonly personas: readonly PersonaPositives[];
}

/** A positive's identity and its tokens up to the emitting position. */
export function emitExample(g: Generation): EmitExample {
  const t = g.markerPosition;
  if (t === null) throw new ReadoutsError("INPUT_INVALID", `trial ${g.trial} of ${g.persona} is not a positive`);
  return {
    persona: g.persona,
    runSeed: g.runSeed,
    trial: g.trial,
    questionIndex: g.questionIndex,
    tokens: [...g.promptIds, ...g.generatedIds].slice(0, t),
  };
}

/** Reads the run folder: missing or malformed inputs throw INPUT_INVALID (exit 2) naming the file. */
export function readFollowUpInputs(runDir: string): FollowUpInputs {
  const configFile = path.join(runDir, RUN_CONFIG_FILE);
  if (!fs.existsSync(configFile)) {
    throw new ReadoutsError("INPUT_INVALID", `${runDir} is not an attention-marker run folder: no config.json`, {
      file: configFile,
      expected: "a folder written by `pnpm --filter readouts attention-marker` (config.json, generations/)",
    });
  }
  const config = readRunConfig(runDir);
  const markerIds = new Set<number>();
  const personas = config.personas.map((p): PersonaPositives => {
    const generations = config.runSeeds.flatMap((seed) => readGenerations(generationsFile(runDir, p.name, seed)));
    const positives = generations.filter((g) => g.markerPosition !== null);
    for (const g of positives) markerIds.add([...g.promptIds, ...g.generatedIds][g.markerPosition!]!);
    return { persona: p.name, model: p.model, examples: positives.map(emitExample) };
  });
  if (markerIds.size !== 1) {
    const message =
      markerIds.size === 0
        ? `${runDir}: no positives in generations/ — run stage 1 first (\`attention-marker\`), or no persona emitted ${config.marker}`
        : `${runDir}: the positives disagree on the marker id (${[...markerIds].join(", ")})`;
    throw new ReadoutsError("INPUT_INVALID", message, { file: path.join(runDir, "generations") });
  }
  return { runDir, config, markerId: [...markerIds][0]!, personas };
}
