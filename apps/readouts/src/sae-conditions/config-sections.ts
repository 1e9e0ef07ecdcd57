/**
 * The analysis sections of the sae-conditions config — Track A, Track B, the behaviour link, W&B — with their
 * resolvers (unknown keys rejected with the nearest valid one, condition labels checked against the conditions).
 */
import { didYouMean } from "@difflens/common";
import { fields } from "../config-fields.ts";

const { objectWithKeys, num, str, oneOf } = fields;

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
export function keysOf(value: unknown): string[] {
  return value !== null && typeof value === "object" ? Object.keys(value) : [];
}

function allPairs(labels: readonly string[]): [string, string][] {
  return labels.flatMap((a, i) => labels.slice(i + 1).map((b) => [a, b] as [string, string]));
}

export function resolveTrackA(
  input: unknown,
  labels: readonly string[],
  layers: readonly number[],
): TrackAConfig | null {
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

export function resolveTrackB(input: unknown, labels: readonly string[]): TrackBConfig {
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

export function resolveBehaviour(
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

export function resolveWandb(input: unknown): WandbConfig {
  const rec = objectWithKeys("wandb", input, ["mode", "project", "entity"]);
  return {
    mode: oneOf("wandb", rec, "mode", "offline", ["offline", "online", "disabled"] as const),
    project: str("wandb", rec, "project", "difflens-readouts"),
    entity: str("wandb", rec, "entity", null),
  };
}
