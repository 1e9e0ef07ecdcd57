/**
 * The `attention-marker` config (one JSON file, e.g. configs/readouts/qwen2.5-7b-attention-marker.json). Relative
 * paths resolve from the config file's folder; unknown keys are rejected with the nearest valid one; every error
 * names the file, the field and what was expected. Every field is documented in the app README's table.
 */
import * as path from "node:path";
import { loadConfigFile, type ModelRef, resolveModelRef } from "@difflens/app-kit";
import { DEFAULT_SPECIALS } from "@difflens/chat";
import { didYouMean } from "@difflens/common";
import { deepFreeze, fields } from "../config-fields.ts";
import { ReadoutsError } from "../errors.ts";
import { withPathKey } from "../sae-conditions/config.ts";
import { resolveWandb, type WandbConfig } from "../sae-conditions/config-sections.ts";
import type { GenerationSettings } from "./records.ts";

export interface PersonaConfig {
  /** Unique name (file names, results, figures). */
  readonly name: string;
  /** The system prompt the persona's model was trained and is read under. */
  readonly systemPrompt: string;
  /** Its trained model: HF folder / Hub cache / ORG/NAME, or base + PEFT adapter merged at load. */
  readonly model: ModelRef;
}

export interface AttentionMarkerConfig {
  readonly name: string;
  readonly personas: readonly PersonaConfig[];
  /** The force-feed comparator (the seed's base Qwen2.5-7B-Instruct); null = no force-feed. */
  readonly comparator: ModelRef | null;
  /** Personas force-fed to the comparator: every persona by default. */
  readonly forceFeed: readonly string[];
  /** JSONL of questions (absolute path), or "builtin". */
  readonly questions: string;
  /** The marker string; its FIRST token is the marker id (`[Z` for `[ZLT]` in Qwen's vocabulary). */
  readonly marker: string;
  readonly generation: GenerationSettings & {
    /** Rows generated together (tokens do not depend on it: each row has its own trial seed). */
    readonly batchSize: number;
  };
  /** Attempts per persona and run seed; attempt k asks question k mod Q. */
  readonly attempts: number;
  /** Run seeds: every stage runs per seed; results are reported per seed and pooled. */
  readonly runSeeds: readonly number[];
  readonly readout: {
    /** Readout position = t* + offset (0 = the marker's own position, the seed's; −1 = the emitting position). */
    readonly offset: number;
    /** Layers read (every layer by default). */
    readonly layers: readonly number[] | "all";
    /** Segmentation B's specials: strings that are one token each (the seed's five by default). */
    readonly specials: readonly string[];
    /** Largest allowed |Σ region fractions − 1| (the seed's 5e-3). */
    readonly partitionTolerance: number;
    /** Sequences per forward pass in stage 2 and in the force-feed. */
    readonly batchSize: number;
  };
  readonly gates: {
    /** Gate A: #{δ_system > 0} ≥ ⌈threshold · E⌉ (the seed's 0.7). */
    readonly directionThreshold: number;
    /** Two-sided binomial sign-balance test level (0.05). */
    readonly alpha: number;
  };
  readonly wandb: WandbConfig;
  /** The run folder from the config (absolute), or null/absent: the command's default `runs/readouts/attention-marker/<name>`. */
  readonly runDir?: string | null;
  /** The config file (absolute), or null/absent in memory. */
  readonly file?: string | null;
}

const { objectWithKeys, num, str, strList } = fields;

const TOP_KEYS = [
  "$comment",
  "name",
  "personas",
  "comparator",
  "forceFeed",
  "questions",
  "marker",
  "generation",
  "attempts",
  "runSeeds",
  "readout",
  "gates",
  "wandb",
  "runDir",
];
/** Persona names become file and folder names. */
const PERSONA_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const MODEL_EXPECTED = 'a model folder, ORG/NAME, or { "base": <model>, "adapter": <PEFT folder> }';

/** Validates a parsed config; `baseDir` resolves relative paths, `file` names the config in errors. */
export function resolveAttentionMarkerConfig(raw: unknown, baseDir: string, file?: string): AttentionMarkerConfig {
  const rec = objectWithKeys("config", raw, TOP_KEYS, file);
  const abs = (p: string) => path.resolve(baseDir, p);
  const personas = resolvePersonas(rec.personas, baseDir);
  const comparator =
    rec.comparator === undefined || rec.comparator === null ? null : modelRef("comparator", rec.comparator, baseDir);
  const questions = str("config", rec, "questions", "builtin");
  const runDir = str("config", rec, "runDir", null);
  const config: AttentionMarkerConfig = {
    name: str("config", rec, "name", "attention-marker"),
    personas,
    comparator,
    forceFeed: comparator === null ? [] : resolveForceFeed(rec.forceFeed, personas),
    questions: questions === "builtin" ? questions : abs(questions),
    marker: str("config", rec, "marker", "[ZLT]"),
    generation: resolveGeneration(rec.generation),
    attempts: num("config", rec, "attempts", 200, { int: true, min: 1 }),
    runSeeds: resolveRunSeeds(rec.runSeeds),
    readout: resolveReadout(rec.readout),
    gates: resolveGates(rec.gates),
    wandb: resolveWandb(rec.wandb),
    runDir: runDir === null ? null : abs(runDir),
    file: file ?? null,
  };
  return deepFreeze(config);
}

/** Reads and validates a config file (errors name the file). */
export function loadAttentionMarkerConfig(file: string): AttentionMarkerConfig {
  return loadConfigFile(file, resolveAttentionMarkerConfig, ReadoutsError);
}

/** The resolved config as the run folder keeps it (`config.json`): itself a valid config, every path absolute. */
export function configJson(config: AttentionMarkerConfig): Record<string, unknown> {
  const { file: _file, ...rest } = config;
  const model = (ref: ModelRef) => (ref.adapter === null ? ref.path : { base: ref.path, adapter: ref.adapter });
  return {
    ...rest,
    personas: config.personas.map((p) => ({ ...p, model: model(p.model) })),
    comparator: config.comparator === null ? null : model(config.comparator),
  };
}

export const RUN_CONFIG_FILE = "config.json";

/** The config a run folder was made with (its `config.json`), for the follow-up commands. */
export function readRunConfig(runDir: string): AttentionMarkerConfig {
  return loadAttentionMarkerConfig(path.join(runDir, RUN_CONFIG_FILE));
}

function modelRef(where: string, input: unknown, baseDir: string): ModelRef {
  if (input === undefined || input === null || input === "")
    fields.fail("CONFIG_INVALID", `${where}: expected ${MODEL_EXPECTED}, got ${JSON.stringify(input)}`, {
      field: where,
      expected: MODEL_EXPECTED,
    });
  if (input !== null && typeof input === "object" && !Array.isArray(input))
    objectWithKeys(where, input, "path" in input ? ["path", "adapter"] : ["base", "adapter"]);
  return resolveModelRef(where, withPathKey(input), baseDir, fields);
}

function resolvePersonas(input: unknown, baseDir: string): PersonaConfig[] {
  const expected = "a non-empty list of { name, systemPrompt, model }";
  if (!Array.isArray(input) || input.length === 0)
    fields.fail("CONFIG_INVALID", `config.personas: expected ${expected}, got ${JSON.stringify(input)}`, {
      field: "personas",
      expected,
    });
  const out: PersonaConfig[] = [];
  for (const [i, entry] of (input as unknown[]).entries()) {
    const where = `personas[${i}]`;
    const rec = objectWithKeys(where, entry ?? null, ["name", "systemPrompt", "model"]);
    const name = str(where, rec, "name", null);
    if (name === null || !PERSONA_NAME.test(name))
      fields.fail(
        "CONFIG_INVALID",
        `${where}.name: expected letters, digits, _ . - (a file name), got ${JSON.stringify(rec.name)}`,
        {
          field: `${where}.name`,
          got: rec.name,
        },
      );
    if (out.some((p) => p.name === name))
      fields.fail("CONFIG_INVALID", `${where}.name: "${name}" appears twice; expected unique persona names`, {
        field: `${where}.name`,
        got: name,
      });
    const systemPrompt = str(where, rec, "systemPrompt", null);
    if (systemPrompt === null)
      fields.fail(
        "CONFIG_INVALID",
        `${where}.systemPrompt is required (the system prompt the persona was trained under)`,
        {
          field: `${where}.systemPrompt`,
        },
      );
    out.push({ name: name!, systemPrompt: systemPrompt!, model: modelRef(`${where}.model`, rec.model, baseDir) });
  }
  return out;
}

function resolveForceFeed(input: unknown, personas: readonly PersonaConfig[]): string[] {
  const names = personas.map((p) => p.name);
  if (input === undefined || input === "all") return names;
  const expected = `"all" or a list of persona names (${names.join(", ")})`;
  if (!Array.isArray(input) || !input.every((s) => typeof s === "string") || new Set(input).size !== input.length)
    fields.fail("CONFIG_INVALID", `config.forceFeed: expected ${expected}, got ${JSON.stringify(input)}`, {
      field: "forceFeed",
      expected,
      got: input,
    });
  for (const [i, name] of (input as string[]).entries()) {
    if (!names.includes(name))
      fields.fail(
        "CONFIG_INVALID",
        `config.forceFeed[${i}]: "${name}" is not a persona${didYouMean(name, names)}; expected one of ${names.join(", ")}`,
        { field: `forceFeed[${i}]`, expected: names.join(" | "), got: name },
      );
  }
  return input as string[];
}

function resolveGeneration(input: unknown): AttentionMarkerConfig["generation"] {
  const keys = ["temperature", "topP", "topK", "maxNewTokens", "batchSize"];
  const rec = objectWithKeys("generation", input, keys);
  return {
    temperature: num("generation", rec, "temperature", 1.0, { min: 0 }),
    topP: num("generation", rec, "topP", 0.95, { min: Number.MIN_VALUE, max: 1 }),
    topK: num("generation", rec, "topK", 0, { int: true, min: 0 }),
    maxNewTokens: num("generation", rec, "maxNewTokens", 256, { int: true, min: 1 }),
    batchSize: num("generation", rec, "batchSize", 8, { int: true, min: 1 }),
  };
}

function resolveRunSeeds(input: unknown): number[] {
  if (input === undefined) return [42];
  const expected = "a non-empty list of distinct integer seeds";
  const ok =
    Array.isArray(input) &&
    input.length > 0 &&
    input.every((s) => Number.isSafeInteger(s)) &&
    new Set(input).size === input.length;
  if (!ok)
    fields.fail("CONFIG_INVALID", `config.runSeeds: expected ${expected}, got ${JSON.stringify(input)}`, {
      field: "runSeeds",
      expected,
      got: input,
    });
  return input as number[];
}

function resolveReadout(input: unknown): AttentionMarkerConfig["readout"] {
  const keys = ["offset", "layers", "specials", "partitionTolerance", "batchSize"];
  const rec = objectWithKeys("readout", input, keys);
  let layers: number[] | "all" = "all";
  if (rec.layers !== undefined && rec.layers !== "all") {
    layers = fields.numList("readout", rec, "layers", []) ?? [];
    if (layers.length === 0 || new Set(layers).size !== layers.length)
      fields.fail(
        "CONFIG_INVALID",
        `readout.layers: expected "all" or distinct layer indices, got ${JSON.stringify(rec.layers)}`,
        {
          field: "readout.layers",
        },
      );
  }
  const specials = strList("readout", rec, "specials", DEFAULT_SPECIALS);
  if (specials.some((s) => s === "") || new Set(specials).size !== specials.length)
    fields.fail(
      "CONFIG_INVALID",
      `readout.specials: expected distinct non-empty strings, got ${JSON.stringify(specials)}`,
      {
        field: "readout.specials",
      },
    );
  return {
    offset: num("readout", rec, "offset", 0, { int: true }),
    layers,
    specials,
    partitionTolerance: num("readout", rec, "partitionTolerance", 0.005, { min: 0, max: 1 }),
    batchSize: num("readout", rec, "batchSize", 4, { int: true, min: 1 }),
  };
}

function resolveGates(input: unknown): AttentionMarkerConfig["gates"] {
  const rec = objectWithKeys("gates", input, ["directionThreshold", "alpha"]);
  return {
    directionThreshold: num("gates", rec, "directionThreshold", 0.7, { min: 0, max: 1 }),
    alpha: num("gates", rec, "alpha", 0.05, { min: 0, max: 1 }),
  };
}
