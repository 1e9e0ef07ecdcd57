/**
 * The `steer` config (JSON; every field documented in the README's steer section; unknown keys rejected with the nearest valid one;
 * relative paths resolve from the config file's folder).
 */
import * as path from "node:path";
import { type ModelRef, resolveModelRef } from "@difflens/app-kit";
import { parseSystemCondition, type RegionKind, type SystemCondition } from "@difflens/chat";
import { deepFreeze, fields } from "../config-fields.ts";

/** Which latent of an SAE: an index, or the latent at `compareRank` (1 = top) of a diffing run's compare ranking. */
export type LatentRef = number | { readonly compareRank: number };

/** Where an intervention's SAE comes from: `saes[layer]` of the config, or a folder (SAE or diffing stage). */
export type SaeRef = { readonly layer: number } | { readonly folder: string };

export type InterventionConfig =
  | {
      readonly kind: "clamp";
      readonly sae: SaeRef;
      /** Hook site; null = the SAE's own, else the config's hook template at the layer. */
      readonly hook: string | null;
      readonly layer: number | null;
      readonly latents: readonly LatentRef[];
      readonly value: number;
    }
  | {
      readonly kind: "add";
      /** The direction: an SAE decoder row (sae + latent) or a vector file. */
      readonly direction: { readonly sae: SaeRef; readonly latent: LatentRef } | { readonly file: string };
      readonly hook: string | null;
      readonly layer: number | null;
      /** One α, or the sweep's list. */
      readonly alphas: readonly number[];
    };

export type PositionsConfig =
  | "all"
  | "generated"
  | { readonly fromRegion: { readonly role: string | null; readonly kind: RegionKind } };

const REGION_KINDS: readonly RegionKind[] = ["header", "content", "structural", "generation-prompt"];

export interface SteerConfig {
  readonly file: string | null;
  readonly model: ModelRef;
  readonly reference: ModelRef | null;
  readonly conditionLabel: string;
  readonly condition: SystemCondition;
  /** Prompt texts (user messages) with ids, or "builtin" / a JSONL file (read when the run starts). */
  readonly prompts: string | readonly { readonly id: string; readonly text: string }[];
  readonly saes: Readonly<Record<number, string>>;
  readonly hook: string;
  readonly interventions: readonly InterventionConfig[];
  readonly positions: PositionsConfig;
  /** Tokens whose probability and rank are reported (strings the tokenizer encodes to one token each). */
  readonly targets: readonly string[];
  readonly generate: {
    readonly maxNewTokens: number;
    readonly temperature: number;
    readonly seed: number;
  };
  /** Where the KL check passes: KL(reference ‖ steered) ≤ (1 − minKlDrop) × KL(reference ‖ model); null = no check. */
  readonly minKlDrop: number | null;
  readonly seed: number;
}

const KEYS = [
  "model",
  "reference",
  "condition",
  "prompts",
  "saes",
  "hook",
  "interventions",
  "positions",
  "targets",
  "generate",
  "minKlDrop",
  "seed",
] as const;
const CLAMP_KEYS = ["kind", "layer", "hook", "sae", "latent", "value"];
const ADD_KEYS = ["kind", "layer", "hook", "sae", "latent", "directionFile", "alpha", "alphas"];

export function resolveSteerConfig(raw: unknown, baseDir: string, file?: string): SteerConfig {
  const rec = fields.objectWithKeys("steer", raw, KEYS, file);
  const abs = (p: string) => path.resolve(baseDir, p);
  if (rec.model === undefined)
    fields.fail("CONFIG_INVALID", "steer.model is required (a model folder)", { field: "steer.model" });
  const model = resolveModelRef("steer.model", rec.model, baseDir, fields);
  const reference =
    rec.reference === undefined || rec.reference === null
      ? null
      : resolveModelRef("steer.reference", rec.reference, baseDir, fields);
  const conditionLabel = fields.str("steer", rec, "condition", "model-default");
  let condition: SystemCondition;
  try {
    condition = parseSystemCondition(conditionLabel);
  } catch {
    return fields.fail(
      "CONFIG_INVALID",
      `steer.condition: expected "model-default", "custom:<text>", "empty" or "no-system-turn", got ${JSON.stringify(conditionLabel)}`,
      { field: "steer.condition", got: conditionLabel },
    );
  }
  const saes = resolveSaes(rec.saes, abs);
  const hook = fields.str("steer", rec, "hook", "blocks.{layer}.hook_resid_post");
  if (!Array.isArray(rec.interventions) || rec.interventions.length === 0) {
    fields.fail("CONFIG_INVALID", "steer.interventions: expected a non-empty list", { field: "steer.interventions" });
  }
  const interventions = (rec.interventions as unknown[]).map((it, i) => resolveIntervention(it, i, saes, abs));
  const sweeps = interventions.filter((it) => it.kind === "add" && it.alphas.length > 1).length;
  if (sweeps > 1) {
    fields.fail("CONFIG_INVALID", "steer.interventions: at most one intervention may sweep alphas", {
      field: "steer.interventions",
    });
  }
  const gen = fields.objectWithKeys("steer.generate", rec.generate, ["maxNewTokens", "temperature", "greedy", "seed"]);
  const greedy = fields.bool("steer.generate", gen, "greedy", gen.temperature === undefined);
  const temperature = fields.num("steer.generate", gen, "temperature", 0, { min: 0 });
  if (greedy && temperature > 0) {
    fields.fail("CONFIG_INVALID", "steer.generate: greedy: true with temperature > 0; give one of them", {
      field: "steer.generate.greedy",
    });
  }
  const minKlDrop = fields.num("steer", rec, "minKlDrop", null, { min: 0, max: 1, nullable: true });
  if (minKlDrop !== null && reference === null) {
    fields.fail("CONFIG_INVALID", "steer.minKlDrop: the check needs a reference model (steer.reference)", {
      field: "steer.minKlDrop",
    });
  }
  return deepFreeze({
    file: file ?? null,
    model,
    reference,
    conditionLabel,
    condition,
    prompts: resolvePrompts(rec.prompts, abs),
    saes,
    hook,
    interventions,
    positions: resolvePositions(rec.positions),
    targets: fields.strList("steer", rec, "targets", ["<|im_end|>"]),
    generate: {
      maxNewTokens: fields.num("steer.generate", gen, "maxNewTokens", 24, { int: true, min: 1 }),
      temperature: greedy ? 0 : temperature,
      seed: fields.num("steer.generate", gen, "seed", 0, { int: true }),
    },
    minKlDrop,
    seed: fields.num("steer", rec, "seed", 0, { int: true }),
  });
}

function resolveSaes(input: unknown, abs: (p: string) => string): Record<number, string> {
  if (input === undefined) return {};
  const rec = fields.objectWithKeys("steer.saes", input, Object.keys((input as object) ?? {}));
  const out: Record<number, string> = {};
  for (const key of Object.keys(rec)) {
    if (!/^\d+$/.test(key)) {
      fields.fail("CONFIG_INVALID", `steer.saes: keys are layer indices, got "${key}"`, { field: `steer.saes.${key}` });
    }
    out[Number(key)] = abs(fields.str("steer.saes", rec, key, ""));
  }
  return out;
}

function resolvePrompts(input: unknown, abs: (p: string) => string): SteerConfig["prompts"] {
  if (input === undefined) {
    return fields.fail("CONFIG_INVALID", 'steer.prompts is required: a list of texts, "builtin" or a JSONL file', {
      field: "steer.prompts",
    });
  }
  if (input === "builtin") return input;
  if (typeof input === "string" && input !== "") return abs(input);
  if (Array.isArray(input) && input.length > 0 && input.every((p) => typeof p === "string" && p !== "")) {
    return input.map((text, i) => ({ id: `p${i}`, text }));
  }
  return fields.fail(
    "CONFIG_INVALID",
    `steer.prompts: expected "builtin", a JSONL file or a non-empty list of texts, got ${JSON.stringify(input)}`,
    { field: "steer.prompts", expected: "a .jsonl path or [text, …]", got: input },
  );
}

function resolvePositions(input: unknown): PositionsConfig {
  if (input === undefined || input === "all" || input === "generated") return input ?? "all";
  const m = typeof input === "string" ? /^from:(?:([a-z]+):)?([a-z-]+)$/.exec(input) : null;
  if (m && REGION_KINDS.includes(m[2] as RegionKind)) {
    return { fromRegion: { role: m[1] ?? null, kind: m[2] as RegionKind } };
  }
  return fields.fail(
    "CONFIG_INVALID",
    `steer.positions: expected "all", "generated" or "from:[<role>:]<kind>" (kind: ${REGION_KINDS.join(" | ")}; e.g. "from:user:content"), got ${JSON.stringify(input)}`,
    { field: "steer.positions", got: input },
  );
}

function resolveIntervention(
  input: unknown,
  i: number,
  saes: Readonly<Record<number, string>>,
  abs: (p: string) => string,
): InterventionConfig {
  const where = `steer.interventions[${i}]`;
  const kind = (input as Record<string, unknown> | null)?.kind;
  if (kind !== "clamp" && kind !== "add") {
    return fields.fail("CONFIG_INVALID", `${where}.kind: expected "clamp" or "add", got ${JSON.stringify(kind)}`, {
      field: `${where}.kind`,
    });
  }
  const rec = fields.objectWithKeys(where, input, kind === "clamp" ? CLAMP_KEYS : ADD_KEYS);
  const layer = fields.num(where, rec, "layer", null, { int: true, min: 0, nullable: true });
  const hook = fields.str(where, rec, "hook", null);
  const saeFolder = fields.str(where, rec, "sae", null);
  const saeRef = (): SaeRef => {
    if (saeFolder !== null) return { folder: abs(saeFolder) };
    if (layer === null) {
      return fields.fail("CONFIG_INVALID", `${where}: name the SAE with "layer" (saes[layer]) or "sae" (a folder)`, {
        field: `${where}.layer`,
      });
    }
    if (!(layer in saes)) {
      const have = Object.keys(saes).join(", ") || "none";
      return fields.fail(
        "CONFIG_INVALID",
        `${where}.layer: no SAE for layer ${layer} in steer.saes (layers: ${have})`,
        {
          field: `${where}.layer`,
          got: layer,
        },
      );
    }
    return { layer };
  };
  if (layer === null && hook === null && saeFolder === null) {
    fields.fail("CONFIG_INVALID", `${where}: give "layer" or "hook" (where it acts)`, { field: `${where}.layer` });
  }
  if (kind === "clamp") {
    const raw = rec.latent;
    const list = Array.isArray(raw) ? raw : [raw];
    return {
      kind,
      sae: saeRef(),
      hook,
      layer,
      latents: list.map((l, j) => latentRef(l, Array.isArray(raw) ? `${where}.latent[${j}]` : `${where}.latent`)),
      value: fields.num(where, rec, "value", 0),
    };
  }
  const alphas =
    rec.alphas !== undefined
      ? (rec.alphas as unknown[])
      : rec.alpha !== undefined
        ? [rec.alpha]
        : fields.fail("CONFIG_INVALID", `${where}: give "alpha" or "alphas"`, { field: `${where}.alpha` });
  if (
    !Array.isArray(alphas) ||
    alphas.length === 0 ||
    !alphas.every((a) => typeof a === "number" && Number.isFinite(a))
  ) {
    fields.fail("CONFIG_INVALID", `${where}.alphas: expected a non-empty list of numbers`, {
      field: `${where}.alphas`,
    });
  }
  if (rec.alpha !== undefined && rec.alphas !== undefined) {
    fields.fail("CONFIG_INVALID", `${where}: give "alpha" or "alphas", not both`, { field: `${where}.alphas` });
  }
  const directionFile = fields.str(where, rec, "directionFile", null);
  if ((directionFile === null) === (rec.latent === undefined)) {
    fields.fail("CONFIG_INVALID", `${where}: give "latent" (an SAE decoder row) or "directionFile", exactly one`, {
      field: `${where}.latent`,
    });
  }
  const direction =
    directionFile !== null
      ? { file: abs(directionFile) }
      : { sae: saeRef(), latent: latentRef(rec.latent, `${where}.latent`) };
  return { kind, direction, hook, layer, alphas: alphas as number[] };
}

function latentRef(input: unknown, where: string): LatentRef {
  if (typeof input === "number" && Number.isInteger(input) && input >= 0) return input;
  const rank = (input as Record<string, unknown> | null)?.compareRank;
  if (typeof input === "object" && input !== null && Object.keys(input).join() === "compareRank") {
    if (typeof rank === "number" && Number.isInteger(rank) && rank >= 1) return { compareRank: rank };
  }
  return fields.fail(
    "CONFIG_INVALID",
    `${where}: expected a latent index ≥ 0 or { "compareRank": n ≥ 1 }, got ${JSON.stringify(input)}`,
    { field: where, got: input },
  );
}
