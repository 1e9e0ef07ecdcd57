/**
 * Run discovery: every folder under the served root (the root included) that holds a `run.json`, plus the readouts
 * follow-ups (`<run>/follow-ups/<command>/results.json`, which have no run.json of their own). Folders that never hold
 * a run are not walked: node_modules, dot-folders, W&B internals (`wandb/` holds a run.json of its own), checkpoints.
 * A run.json that cannot be read still gives a listed run, with an error panel and a kind guessed from its files.
 */
import type { Dirent } from "node:fs";
import { readdir, realpath } from "node:fs/promises";
import * as path from "node:path";
import type { ErrorPanel, RunKind } from "../api/run-types.ts";
import { DashboardError } from "../errors.ts";
import type { DiscoveredRun } from "./discovered-run.ts";
import { errorPanel, pathExists, readRunJson } from "./read-run-file.ts";

const SKIPPED_FOLDERS = new Set(["node_modules", "wandb", "checkpoints", "activations", "__pycache__"]);
/** Deeper than any run layout we write; a guard against pathological trees. */
const MAX_DEPTH = 12;
const MAX_FOLDERS = 50_000;

export const FOLLOW_UP_COMMANDS = ["logit-lens", "dla", "patch", "ablate-mlp"] as const;

/** Every run under `root`, sorted by id ("." first). `root` must be an existing folder. */
export async function discoverRuns(root: string): Promise<DiscoveredRun[]> {
  let rootDir: string;
  try {
    rootDir = await realpath(root);
  } catch {
    throw new DashboardError("NOT_FOUND", `${root}: no such folder`, { file: root });
  }
  const runs: DiscoveredRun[] = [];
  const pending: { dir: string; depth: number }[] = [{ dir: rootDir, depth: 0 }];
  let visited = 0;
  while (pending.length > 0 && visited < MAX_FOLDERS) {
    const { dir, depth } = pending.pop()!;
    visited++;
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      continue; // unreadable folder: nothing to list
    }
    const id = toId(rootDir, dir);
    if (entries.some((e) => e.isFile() && e.name === "run.json")) runs.push(await loadRun(id, dir, entries));
    else if (path.basename(path.dirname(dir)) === "follow-ups" && entries.some((e) => e.name === "results.json")) {
      runs.push(await loadFollowUp(id, dir));
    }
    if (depth >= MAX_DEPTH) continue;
    for (const entry of entries) {
      // Dirent.isDirectory() is false for symlinks: discovery never follows a link out of the root.
      if (!entry.isDirectory() || entry.name.startsWith(".") || SKIPPED_FOLDERS.has(entry.name)) continue;
      pending.push({ dir: path.join(dir, entry.name), depth: depth + 1 });
    }
  }
  return runs.sort((a, b) => (a.id === "." ? -1 : b.id === "." ? 1 : a.id.localeCompare(b.id)));
}

/** The discovered run with this id, or NOT_FOUND. */
export function findRun(runs: readonly DiscoveredRun[], id: string): DiscoveredRun {
  const run = runs.find((r) => r.id === id);
  if (!run) throw new DashboardError("NOT_FOUND", `no run "${id}" under the served folder`, { field: "run" });
  return run;
}

async function loadRun(id: string, dir: string, entries: readonly Dirent[]): Promise<DiscoveredRun> {
  const errors: ErrorPanel[] = [];
  let runJson: Record<string, unknown> | null = null;
  try {
    const parsed = await readRunJson(dirRun(dir), "run.json");
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new DashboardError("RUN_FILE_INVALID", "run.json: expected a JSON object", { file: "run.json" });
    }
    runJson = parsed as Record<string, unknown>;
  } catch (error) {
    errors.push(errorPanel(error, "run.json"));
  }
  const kind = runJson ? kindOf(runJson) : await guessKind(dir, entries);
  return { id, dir, kind, runJson, errors };
}

async function loadFollowUp(id: string, dir: string): Promise<DiscoveredRun> {
  try {
    const results = await readRunJson<Record<string, unknown>>(dirRun(dir), "results.json");
    return { id, dir, kind: "readouts-follow-up", runJson: results, errors: [] };
  } catch (error) {
    return { id, dir, kind: "readouts-follow-up", runJson: null, errors: [errorPanel(error, "results.json")] };
  }
}

/** The kind of a run from its run.json: `format`, then the command that made it, then the config's shape. */
export function kindOf(runJson: Record<string, unknown>): RunKind {
  const format = String(runJson["format"] ?? "");
  if (format === "difflens-diffing-run") return "diffing";
  if (format === "difflens-readouts-steer") return "readouts-steer";
  if (FOLLOW_UP_COMMANDS.some((c) => format === `difflens-readouts-${c}`)) return "readouts-follow-up";
  if (format !== "difflens-readouts-run") return "unknown";
  const commands = Array.isArray(runJson["events"])
    ? (runJson["events"] as { command?: unknown }[]).map((e) => e?.command)
    : [];
  if (commands.includes("sae-conditions")) return "readouts-sae-conditions";
  if (commands.includes("attention-marker")) return "readouts-attention-marker";
  if (commands.includes("steer")) return "readouts-steer";
  const config = (runJson["config"] ?? {}) as Record<string, unknown>;
  if ("interventions" in config) return "readouts-steer";
  if ("personas" in config || "marker" in config) return "readouts-attention-marker";
  if ("conditions" in config || "trackA" in config) return "readouts-sae-conditions";
  return "unknown";
}

/** With no readable run.json: the kind its files suggest, so the right page (with its error panel) still shows. */
async function guessKind(dir: string, entries: readonly Dirent[]): Promise<RunKind> {
  const names = new Set(entries.map((e) => e.name));
  if (names.has("compare") || names.has("features") || (await pathExists(path.join(dir, "stages", "S")))) {
    return "diffing";
  }
  if (names.has("generations") || (await pathExists(path.join(dir, "figures", "gates.json")))) {
    return "readouts-attention-marker";
  }
  if (names.has("top-features.json")) return "readouts-sae-conditions";
  if (names.has("alpha-sweep.json")) return "readouts-steer";
  return "unknown";
}

const dirRun = (dir: string) => ({ dir });

function toId(rootDir: string, dir: string): string {
  const rel = path.relative(rootDir, dir);
  return rel === "" ? "." : rel.split(path.sep).join("/");
}
