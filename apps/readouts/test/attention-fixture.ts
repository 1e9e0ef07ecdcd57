/**
 * The attention-marker stage-2 fixture (tools/reference/readouts/make_attention_fixture.ts): a tiny planted Qwen2
 * folder, one persona's stage-1 generations, the app's key groups and strata as the fixture maker saved them, and
 * the numpy reference's fractions, deltas and gates.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { type ChatTemplate, loadChatTemplateFromFolder } from "@difflens/chat";
import { loadModel, type Model } from "@difflens/runtime";
import { loadTokenizer, type Tokenizer } from "@difflens/tokenizer";
import type { ReadoutItem } from "../src/attention-marker/attention-readout.ts";
import type { AttentionMarkerConfig } from "../src/attention-marker/config.ts";
import { personaPrompt } from "../src/attention-marker/persona-prompt.ts";
import type { Generation, Stratum } from "../src/attention-marker/records.ts";
import { chooseStrata } from "../src/attention-marker/strata.ts";
import { tokenFrequencies } from "../src/attention-marker/token-frequency.ts";

export const FIXTURE_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures/attention-reference");
export const MODEL_DIR = path.join(FIXTURE_DIR, "model");

export interface FixtureInput {
  readonly systemPrompt: string;
  readonly specials: readonly string[];
  readonly markerId: number;
  readonly layers: readonly number[];
  readonly groups: readonly string[];
  readonly directionThreshold: number;
  readonly examples: ReadonlyArray<{
    readonly trial: number;
    readonly ids: readonly number[];
    readonly groupsA: readonly number[];
    readonly groupsB: readonly number[];
    readonly positions: Record<Stratum, number | null>;
  }>;
}

type Fractions = Partial<Record<Stratum, { A: number[][][]; B: number[][][] }>>;
interface ReferenceGates {
  readonly semSystem: number[];
  readonly positiveSystem: number[];
  readonly A: boolean[];
  readonly B: boolean[];
  readonly C: boolean[];
}
export interface FixtureReference {
  readonly E: number;
  readonly examples: ReadonlyArray<{ readonly trial: number; readonly fractions: Fractions }>;
  /** [E][layers]: per positive, mean over heads of marker − C1 system fraction. */
  readonly deltaSystemA: number[][];
  readonly deltaSystemB: number[][];
  readonly gatesA: ReferenceGates & { readonly mean: number[][]; readonly D: boolean[] };
  readonly gatesB: ReferenceGates;
  readonly gateD: boolean[];
}

export interface AttentionFixture {
  readonly model: Model;
  readonly tokenizer: Tokenizer;
  readonly template: ChatTemplate;
  readonly generations: Generation[];
  readonly input: FixtureInput;
  readonly reference: FixtureReference;
  readonly config: AttentionMarkerConfig;
}

const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(path.join(FIXTURE_DIR, file), "utf8")) as T;

export async function loadAttentionFixture(): Promise<AttentionFixture> {
  const input = readJson<FixtureInput>("input.json");
  const generations = fs
    .readFileSync(path.join(FIXTURE_DIR, "generations.jsonl"), "utf8")
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Generation);
  return {
    model: await loadModel(MODEL_DIR),
    tokenizer: loadTokenizer(MODEL_DIR),
    template: loadChatTemplateFromFolder(MODEL_DIR),
    generations,
    input,
    reference: readJson<FixtureReference>("reference.json"),
    config: fixtureConfig(input),
  };
}

/** A resolved config for the fixture's one persona (what stage 1's resolver would give). */
export function fixtureConfig(input: FixtureInput): AttentionMarkerConfig {
  return {
    name: "fixture",
    personas: [{ name: "librarian", systemPrompt: input.systemPrompt, model: { path: MODEL_DIR, adapter: null } }],
    comparator: { path: MODEL_DIR, adapter: null },
    forceFeed: ["librarian"],
    questions: "builtin",
    marker: "[ZLT]",
    generation: { temperature: 1, topP: 0.95, topK: 0, maxNewTokens: 64, batchSize: 4 },
    attempts: 8,
    runSeeds: [42],
    readout: {
      offset: 0,
      layers: "all",
      specials: input.specials,
      partitionTolerance: 0.005,
      batchSize: 3,
    },
    gates: { directionThreshold: input.directionThreshold, alpha: 0.05 },
    wandb: { mode: "disabled", project: "difflens", entity: null },
  };
}

/** The fixture's generations as stage-2 items of the trained model: prompt chat, strata chosen at offset 0. */
export function fixtureItems(fx: AttentionFixture): Promise<ReadoutItem[]> {
  const frequencies = tokenFrequencies(fx.generations);
  return Promise.all(
    fx.generations.map(async (generation) => ({
      generation,
      chat: await personaPrompt(
        fx.tokenizer,
        fx.template,
        fx.input.systemPrompt,
        generation.question,
        fx.input.specials,
      ),
      positions: chooseStrata(generation, frequencies, 0, fx.input.markerId),
      model: "trained" as const,
    })),
  );
}
