/**
 * A run list row from a discovered run: name, dates, a few config facts worth a column and the lineage (models,
 * SAEs, parent runs), all as text. Reads run.json only (already parsed by discovery), so the list stays cheap.
 */
import * as path from "node:path";
import type { RunSummary } from "../api/run-types.ts";
import type { DiscoveredRun } from "./discovered-run.ts";

type Json = Record<string, unknown>;

export function runSummary(run: DiscoveredRun): RunSummary {
  const json = run.runJson ?? {};
  const config = asObject(json["config"]);
  const facts: Record<string, string> = {};
  const lineage: string[] = [];
  const put = (key: string, value: unknown) => {
    const text = describe(value);
    if (text !== null) facts[key] = text;
  };
  switch (run.kind) {
    case "diffing": {
      const sae = asObject(config["sae"]);
      const toy = asObject(config["toy"]);
      put("hook", config["hook"]);
      put("dSae", sae["dSae"]);
      put("k", sae["k"]);
      put("models", config["baseModel"] ? `${describe(config["baseModel"])} → ${describe(config["chatModel"])}` : null);
      if (Object.keys(toy).length > 0) put("toy", `seed ${toy["seed"]}, plant scale ${toy["plantScale"]}`);
      lineage.push(...modelLines("base", config["baseModel"]), ...modelLines("chat", config["chatModel"]));
      for (const [stage, spec] of Object.entries(asObject(config["stages"]))) {
        const pretrained = asObject(spec)["pretrained"];
        if (pretrained) lineage.push(`stage ${stage} from ${describe(pretrained)}`);
      }
      break;
    }
    case "readouts-sae-conditions": {
      put("model", config["model"]);
      put("layers", config["layers"]);
      put(
        "conditions",
        asArray(config["conditions"]).map((c) => asObject(c)["label"] ?? c),
      );
      put("position", config["position"] ?? config["positions"]);
      lineage.push(...modelLines("model", config["model"]));
      for (const [layer, dir] of Object.entries(asObject(config["saes"])))
        lineage.push(`SAE L${layer}: ${describe(dir)}`);
      break;
    }
    case "readouts-attention-marker": {
      const personas = asArray(config["personas"]).map(asObject);
      put(
        "personas",
        personas.map((p) => p["name"]),
      );
      put("marker", config["marker"]);
      put("seeds", config["runSeeds"]);
      for (const p of personas) lineage.push(...modelLines(String(p["name"]), p["model"]));
      lineage.push(...modelLines("comparator", config["comparator"]));
      break;
    }
    case "readouts-steer": {
      put("model", config["model"]);
      put("condition", config["condition"]);
      put("interventions", asArray(config["interventions"]).length || null);
      lineage.push(...modelLines("model", config["model"]), ...modelLines("reference", config["reference"]));
      break;
    }
    case "readouts-follow-up": {
      put("command", String(json["format"] ?? "").replace(/^difflens-readouts-/, ""));
      put("marker", json["marker"]);
      put("comparator", json["comparator"]);
      lineage.push(`follow-up of ${parentRunId(run.id)}`);
      break;
    }
    default:
      break;
  }
  if (typeof json["seed"] === "number" || typeof json["seed"] === "string") put("seed", json["seed"]);
  const format = typeof json["format"] === "string" ? json["format"] : "";
  return {
    id: run.id,
    kind: run.kind,
    format,
    name: nameOf(run, config),
    createdAt: stringOrNull(json["createdAt"]),
    updatedAt: stringOrNull(json["updatedAt"]),
    facts,
    lineage,
    errors: run.errors,
  };
}

function nameOf(run: DiscoveredRun, config: Json): string {
  if (run.kind === "readouts-follow-up")
    return `${path.basename(path.dirname(path.dirname(run.dir)))} · ${path.basename(run.dir)}`;
  const name = config["name"];
  return typeof name === "string" && name !== "" && name !== "toy" ? name : path.basename(run.dir);
}

/** `a/b/follow-ups/dla` → `a/b`. */
function parentRunId(id: string): string {
  const parts = id.split("/");
  const parent = parts.slice(0, -2).join("/");
  return parent === "" ? "." : parent;
}

/** A model reference (path, ORG/NAME, `{ path, adapter }`, `{ base, adapter }`) as lineage lines. */
function modelLines(role: string, ref: unknown): string[] {
  const text = describe(ref);
  return text === null ? [] : [`${role}: ${text}`];
}

/** Any config value as one short line of text, or null when there is nothing to say. */
function describe(value: unknown): string | null {
  if (value === null || value === undefined || value === "") return null;
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) {
    const items = value.map(describe).filter((v): v is string => v !== null);
    return items.length === 0 ? null : items.join(", ");
  }
  const obj = asObject(value);
  const base = obj["path"] ?? obj["base"];
  if (typeof base === "string") return obj["adapter"] ? `${base} + LoRA ${String(obj["adapter"])}` : base;
  const text = JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}…` : text;
}

const asObject = (value: unknown): Json =>
  value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Json) : {};
const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const stringOrNull = (value: unknown): string | null => (typeof value === "string" ? value : null);
