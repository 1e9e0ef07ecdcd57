/**
 * The `sae-conditions` config (one JSON file, e.g. configs/readouts/qwen2.5-7b-sae-conditions.json). Relative paths
 * resolve from the config file's folder. Unknown keys are rejected with the nearest valid one; every error names the
 * field and what was expected (and the file, through app-kit's `loadConfigFile`). Every field is documented in the
 * app README's table.
 */
import * as path from "node:path";
import { loadConfigFile, type ModelRef, resolveModelRef } from "@difflens/app-kit";
import { parseSystemCondition, type SystemCondition } from "@difflens/chat";
import { didYouMean } from "@difflens/common";
import { deepFreeze, fields } from "../config-fields.ts";
import { ReadoutsError } from "../errors.ts";
import { parseReadoutPosition, type ReadoutPosition } from "./readout-position.ts";

const { objectWithKeys, num, str, oneOf } = fields;

export interface LabeledCondition {
  /** Unique name used in pairs, results and figures. */
  readonly label: string;
  readonly condition: SystemCondition;
}

export interface TrackAConfig {
  /** Chosen latents per layer (Track A runs at the layers listed here). */
  readonly latents: Readonly<Record<number, readonly number[]>>;
  /** Random latent sets of the null. */
  readonly nNull: number;
  /** Condition pairs [a, b]: Δ̄ = mean over prompts of resid(a) − resid(b). */
  readonly pairs: readonly (readonly [string, string])[];
}

export interface TrackBConfig {
  readonly nPermutations: number;
  /** A latent passes when its p ≤ alpha. */
  readonly alpha: number;
  /** "max-t": family-wise max-T (headline, per-feature beside it); "seed-percentile": the seed's own rule too. */
  readonly rule: "max-t" | "seed-percentile";
  /** Top features by |d_z| listed per pair and layer. */
  readonly top: number;
  /** Dashboard URL with {layer} and {latent}, or null. */
  readonly linkTemplate: string | null;
  /** Condition pairs compared; default every pair. */
  readonly pairs: readonly (readonly [string, string])[];
}

export interface BehaviourConfig {
  /** JSONL: {"id": <prompt id>, "score": <number>} per line. */
  readonly scores: string;
  /** The condition pair whose per-prompt gap is correlated with the score. */
  readonly pair: readonly [string, string];
  /** Latents of the gap: "all" (the whole SAE vector), "trackA" (Track A's chosen set of the layer) or a list. */
  readonly latents: "all" | "trackA" | readonly number[];
  /** Per-prompt gap: "l2" = ‖act(a) − act(b)‖₂ over the latents; "mean-difference" = mean of act(a) − act(b). */
  readonly gap: "l2" | "mean-difference";
  readonly nPermutations: number;
  readonly nBootstrap: number;
  readonly confidence: number;
}

export interface WandbConfig {
  readonly mode: "offline" | "online" | "disabled";
  readonly project: string;
  readonly entity: string | null;
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
  readonly position: ReadoutPosition;
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
  const model = resolveModelRef("model", rec.model, baseDir, fields);
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
    position: parseReadoutPosition(str("config", rec, "position", "last-prompt-token")),
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

function resolvePair(where: string, input: unknown, labels: readonly string[]): [string, string] {
  if (
    !Array.isArray(input) ||
    input.length !== 2 ||
    !input.every((s) => typeof s === "string") ||
    input[0] === input[1]
  )
    fields.fail("CONFIG_INVALID", `${where}: expected two different condition labels, got ${JSON.stringify(input)}`, {
      field: where,
    });
  for (const [i, label] of (input as string[]).entries()) {
    if (!labels.includes(label))
      fields.fail(
        "CONFIG_INVALID",
        `${where}[${i}]: unknown condition label "${label}"${didYouMean(label, labels)}; expected one of ${labels.map((l) => JSON.stringify(l)).join(", ")}`,
        { field: `${where}[${i}]`, expected: labels.join(" | "), got: label },
      );
  }
  return input as [string, string];
}

function resolvePairs(where: string, input: unknown, labels: readonly string[], dflt: [string, string][]) {
  if (input === undefined) return dflt;
  if (!Array.isArray(input) || input.length === 0)
    fields.fail("CONFIG_INVALID", `${where}: expected a non-empty list of [labelA, labelB] pairs`, { field: where });
  return (input as unknown[]).map((p, i) => resolvePair(`${where}[${i}]`, p, labels));
}

/** Any key is valid (layer maps): only the value's shape is checked by objectWithKeys. */
function keysOf(value: unknown): string[] {
  return value !== null && typeof value === "object" ? Object.keys(value) : [];
}

function allPairs(labels: readonly string[]): [string, string][] {
  return labels.flatMap((a, i) => labels.slice(i + 1).map((b) => [a, b] as [string, string]));
}

function resolveTrackA(input: unknown, labels: readonly string[], layers: readonly number[]): TrackAConfig | null {
  if (input === undefined || input === null) return null;
  const rec = objectWithKeys("trackA", input, ["latents", "nNull", "pairs"]);
  const lat = objectWithKeys("trackA.latents", rec.latents, keysOf(rec.latents));
  const latents: Record<number, number[]> = {};
  for (const key of Object.keys(lat)) {
    const layer = Number(key);
    if (!layers.includes(layer))
      fields.fail("CONFIG_INVALID", `trackA.latents.${key}: layer ${key} is not in layers [${layers.join(", ")}]`, {
        field: `trackA.latents.${key}`,
      });
    const list = fields.numList("trackA.latents", lat, key, []) ?? [];
    if (list.length === 0 || new Set(list).size !== list.length)
      fields.fail("CONFIG_INVALID", `trackA.latents.${key}: expected distinct latent indices`, {
        field: `trackA.latents.${key}`,
      });
    latents[layer] = list;
  }
  if (Object.keys(latents).length === 0)
    fields.fail("CONFIG_INVALID", "trackA.latents: expected { <layer>: [latent, …] } for at least one layer", {
      field: "trackA.latents",
    });
  return {
    latents,
    nNull: num("trackA", rec, "nNull", 1000, { int: true, min: 1 }),
    pairs: resolvePairs("trackA.pairs", rec.pairs, labels, [[labels[0]!, labels[1]!]]),
  };
}

function resolveTrackB(input: unknown, labels: readonly string[]): TrackBConfig {
  const rec = objectWithKeys("trackB", input, ["nPermutations", "alpha", "rule", "top", "linkTemplate", "pairs"]);
  return {
    nPermutations: num("trackB", rec, "nPermutations", 1000, { int: true, min: 1 }),
    alpha: num("trackB", rec, "alpha", 0.001, { min: 0, max: 1 }),
    rule: oneOf("trackB", rec, "rule", "max-t", ["max-t", "seed-percentile"] as const),
    top: num("trackB", rec, "top", 20, { int: true, min: 0 }),
    linkTemplate: str("trackB", rec, "linkTemplate", null),
    pairs: resolvePairs("trackB.pairs", rec.pairs, labels, allPairs(labels)),
  };
}

function resolveBehaviour(
  input: unknown,
  labels: readonly string[],
  abs: (p: string) => string,
  trackA: TrackAConfig | null,
): BehaviourConfig | null {
  if (input === undefined || input === null) return null;
  const keys = ["scores", "pair", "latents", "gap", "nPermutations", "nBootstrap", "confidence"];
  const rec = objectWithKeys("behaviour", input, keys);
  const scores = str("behaviour", rec, "scores", null);
  if (scores === null)
    fields.fail("CONFIG_INVALID", 'behaviour.scores is required (JSONL: {"id", "score"} per line)', {
      field: "behaviour.scores",
    });
  let latents: BehaviourConfig["latents"] = "all";
  if (Array.isArray(rec.latents)) latents = fields.numList("behaviour", rec, "latents", []) ?? [];
  else if (rec.latents !== undefined) latents = oneOf("behaviour", rec, "latents", "all", ["all", "trackA"] as const);
  if (latents === "trackA" && trackA === null)
    fields.fail("CONFIG_INVALID", 'behaviour.latents: "trackA" needs a trackA section', { field: "behaviour.latents" });
  return {
    scores: abs(scores!),
    pair: rec.pair === undefined ? [labels[0]!, labels[1]!] : resolvePair("behaviour.pair", rec.pair, labels),
    latents,
    gap: oneOf("behaviour", rec, "gap", "l2", ["l2", "mean-difference"] as const),
    nPermutations: num("behaviour", rec, "nPermutations", 10000, { int: true, min: 1 }),
    nBootstrap: num("behaviour", rec, "nBootstrap", 10000, { int: true, min: 1 }),
    confidence: num("behaviour", rec, "confidence", 0.95, { min: 0.5, max: 0.999 }),
  };
}

function resolveWandb(input: unknown): WandbConfig {
  const rec = objectWithKeys("wandb", input, ["mode", "project", "entity"]);
  return {
    mode: oneOf("wandb", rec, "mode", "offline", ["offline", "online", "disabled"] as const),
    project: str("wandb", rec, "project", "difflens-readouts"),
    entity: str("wandb", rec, "entity", null),
  };
}
