/**
 * The `sae-conditions` config (one JSON file, e.g. configs/readouts/qwen2.5-7b-sae-conditions.json). Relative paths
 * resolve from the config file's folder. Unknown keys are rejected with the nearest valid one; every error names the
 * field and what was expected (and the file, through app-kit's `loadConfigFile`). Every field is documented in the
 * app README's table.
 */
import * as path from "node:path";
import { loadConfigFile, type ModelRef, resolveModelRef } from "@difflens/app-kit";
import { parseSystemCondition, type SystemCondition } from "@difflens/chat";
import { deepFreeze, fields } from "../config-fields.ts";
import { ReadoutsError } from "../errors.ts";
import {
  type BehaviourConfig,
  keysOf,
  resolveBehaviour,
  resolveTrackA,
  resolveTrackB,
  resolveWandb,
  type TrackAConfig,
  type TrackBConfig,
  type WandbConfig,
} from "./config-sections.ts";
import { parseReadoutPosition, type ReadoutPosition } from "./readout-position.ts";

const { objectWithKeys, num, str, oneOf } = fields;

export interface LabeledCondition {
  /** Unique name used in pairs, results and figures. */
  readonly label: string;
  readonly condition: SystemCondition;
}

export interface SaeConditionsConfig {
  readonly name: string;
  readonly model: ModelRef;
  /** SAE folder per layer (absolute). */
  readonly saes: Readonly<Record<number, string>>;
  /** Hook template with {layer}: what every SAE reads. */
  readonly hook: string;
  /** dictionary_learning BatchTopK: "threshold" (its inference rule) or "topk" (per-token top k). */
  readonly encodeRule: "threshold" | "topk";
  /** "builtin" (the project's 50 neutral prompts) or a JSONL file (absolute). */
  readonly prompts: string;
  readonly conditions: readonly LabeledCondition[];
  readonly layers: readonly number[];
  /** Readout positions, read from one forward pass per (condition, prompt); each gets its own analysis. */
  readonly positions: readonly ReadoutPosition[];
  readonly trackA: TrackAConfig | null;
  readonly trackB: TrackBConfig;
  readonly behaviour: BehaviourConfig | null;
  /** (prompt, condition) items per forward pass. */
  readonly batchSize: number;
  readonly seed: number;
  readonly runDir: string;
  readonly wandb: WandbConfig;
  /** The config file (absolute), or null in memory. */
  readonly file: string | null;
}

export const DEFAULT_CONDITIONS = ["model-default", "custom:You are a helpful assistant.", "empty", "no-system-turn"];
export const DEFAULT_LAYERS = [7, 11, 15];
export const DEFAULT_HOOK = "blocks.{layer}.hook_resid_post";

const TOP_KEYS = [
  "$comment",
  "name",
  "model",
  "saes",
  "saeTemplate",
  "hook",
  "encodeRule",
  "prompts",
  "conditions",
  "layers",
  "position",
  "trackA",
  "trackB",
  "behaviour",
  "batchSize",
  "seed",
  "runDir",
  "wandb",
];

/** Validates a config; `baseDir` resolves relative paths. The input is never mutated; the result is frozen. */
export function resolveSaeConditionsConfig(raw: unknown, baseDir: string, file?: string): SaeConditionsConfig {
  const rec = objectWithKeys("config", raw, TOP_KEYS, file);
  const abs = (p: string) => (path.isAbsolute(p) ? p : path.resolve(baseDir, p));
  if (rec.model === undefined)
    fields.fail("CONFIG_INVALID", "config.model is required (a model folder, ORG/NAME or {path, adapter})", {
      field: "model",
    });
  const model = resolveModelRef("model", withPathKey(rec.model), baseDir, fields);
  const conditions = resolveConditions(rec.conditions);
  const labels = conditions.map((c) => c.label);
  const saes = resolveSaes(rec, abs);
  const layers = resolveLayers(rec.layers, Object.keys(saes).map(Number));
  for (const layer of layers) {
    if (saes[layer] === undefined)
      fields.fail("CONFIG_INVALID", `saes: no SAE for layer ${layer}; expected one folder per layer of "layers"`, {
        field: `saes.${layer}`,
        expected: "an SAE folder",
      });
  }
  const hook = str("config", rec, "hook", DEFAULT_HOOK);
  if (!hook.includes("{layer}"))
    fields.fail("CONFIG_INVALID", `hook: expected a hook name with {layer}, e.g. "${DEFAULT_HOOK}", got "${hook}"`, {
      field: "hook",
    });
  const prompts = str("config", rec, "prompts", "builtin");
  const trackA = resolveTrackA(rec.trackA, labels, layers);
  const config: SaeConditionsConfig = {
    name: str("config", rec, "name", "sae-conditions"),
    model,
    saes: Object.fromEntries(layers.map((l) => [l, saes[l]!])),
    hook,
    encodeRule: oneOf("config", rec, "encodeRule", "threshold", ["threshold", "topk"] as const),
    prompts: prompts === "builtin" ? prompts : abs(prompts),
    conditions,
    layers,
    positions: resolvePositions(rec.position),
    trackA,
    trackB: resolveTrackB(rec.trackB, labels),
    behaviour: resolveBehaviour(rec.behaviour, labels, abs, trackA),
    batchSize: num("config", rec, "batchSize", 8, { int: true, min: 1 }),
    seed: num("config", rec, "seed", 0, { int: true, min: 0 }),
    runDir: abs(str("config", rec, "runDir", "runs/readouts/sae-conditions")),
    wandb: resolveWandb(rec.wandb),
    file: file ?? null,
  };
  return deepFreeze(config);
}

/** `{ "base", "adapter" }` (the readouts contract's spelling) is app-kit's `{ "path", "adapter" }`. */
export function withPathKey(model: unknown): unknown {
  if (model === null || typeof model !== "object" || Array.isArray(model) || !("base" in model)) return model;
  const { base, ...rest } = model as Record<string, unknown>;
  return "path" in rest ? model : { path: base, ...rest };
}

/** Reads and validates a config file (errors name the file). */
export function loadSaeConditionsConfig(file: string): SaeConditionsConfig {
  return loadConfigFile(file, resolveSaeConditionsConfig, ReadoutsError);
}

function resolveConditions(input: unknown): LabeledCondition[] {
  const list = input === undefined ? DEFAULT_CONDITIONS : input;
  if (!Array.isArray(list) || list.length < 2)
    fields.fail(
      "CONFIG_INVALID",
      `conditions: expected a list of at least 2 conditions, got ${JSON.stringify(input)}`,
      {
        field: "conditions",
      },
    );
  const out: LabeledCondition[] = [];
  for (const [i, entry] of (list as unknown[]).entries()) {
    const where = `conditions[${i}]`;
    let label: string;
    let spec: unknown = entry;
    if (entry !== null && typeof entry === "object" && !Array.isArray(entry) && "label" in entry) {
      const e = objectWithKeys(where, entry, ["label", "condition"]);
      label = str(where, e, "label", "");
      spec = e.condition;
    } else label = typeof entry === "string" ? entry : JSON.stringify(entry);
    let condition: SystemCondition;
    try {
      condition = parseSystemCondition(spec);
    } catch {
      const expected = '"model-default" | "custom:<text>" | "empty" | "no-system-turn" | {label, condition}';
      condition = fields.fail("CONFIG_INVALID", `${where}: expected ${expected}, got ${JSON.stringify(entry)}`, {
        field: where,
        expected,
        got: entry,
      });
    }
    if (label === "" || out.some((c) => c.label === label))
      fields.fail(
        "CONFIG_INVALID",
        `${where}: label "${label}" is not unique; expected unique labels ({label, condition})`,
        {
          field: `${where}.label`,
        },
      );
    out.push({ label, condition });
  }
  return out;
}

/** `position`: one position string or a non-empty list of distinct ones. */
function resolvePositions(input: unknown): ReadoutPosition[] {
  if (input === undefined) return [parseReadoutPosition("last-prompt-token")];
  if (typeof input === "string") return [parseReadoutPosition(input)];
  const expected = "a position string or a non-empty list of distinct position strings";
  if (!Array.isArray(input) || input.length === 0 || new Set(input).size !== input.length)
    fields.fail("CONFIG_INVALID", `position: expected ${expected}, got ${JSON.stringify(input)}`, {
      field: "position",
      expected,
    });
  return (input as unknown[]).map((p, i) =>
    typeof p === "string"
      ? parseReadoutPosition(p, `position[${i}]`)
      : fields.fail("CONFIG_INVALID", `position[${i}]: expected a position string, got ${JSON.stringify(p)}`, {
          field: `position[${i}]`,
        }),
  );
}

function resolveSaes(rec: Record<string, unknown>, abs: (p: string) => string): Record<number, string> {
  if (rec.saes !== undefined && rec.saeTemplate !== undefined)
    fields.fail("CONFIG_INVALID", "saes and saeTemplate: give one of them, not both", { field: "saeTemplate" });
  if (rec.saeTemplate !== undefined) {
    const t = str("config", rec, "saeTemplate", "");
    if (!t.includes("{layer}"))
      fields.fail("CONFIG_INVALID", `saeTemplate: expected a folder path with {layer}, got "${t}"`, {
        field: "saeTemplate",
      });
    const layers = Array.isArray(rec.layers) ? (rec.layers as unknown[]) : DEFAULT_LAYERS;
    return Object.fromEntries(layers.map((l) => [l, abs(t.replaceAll("{layer}", String(l)))]));
  }
  if (rec.saes === undefined)
    return fields.fail("CONFIG_INVALID", "config: saes (layer → SAE folder) or saeTemplate is required", {
      field: "saes",
    });
  const saes = objectWithKeys("saes", rec.saes, keysOf(rec.saes));
  const out: Record<number, string> = {};
  for (const key of Object.keys(saes)) {
    if (!/^\d+$/.test(key))
      fields.fail("CONFIG_INVALID", `saes.${key}: expected a layer index as key, got "${key}"`, {
        field: `saes.${key}`,
      });
    out[Number(key)] = abs(str("saes", saes, key, ""));
  }
  return out;
}

function resolveLayers(input: unknown, saeLayers: number[]): number[] {
  const dflt = saeLayers.length > 0 ? saeLayers.sort((a, b) => a - b) : DEFAULT_LAYERS;
  const layers = fields.numList("config", { layers: input }, "layers", dflt) ?? dflt;
  if (layers.length === 0 || new Set(layers).size !== layers.length)
    fields.fail("CONFIG_INVALID", `layers: expected distinct layer indices, got ${JSON.stringify(input)}`, {
      field: "layers",
    });
  return layers;
}

export type { BehaviourConfig, TrackAConfig, TrackBConfig, WandbConfig };
