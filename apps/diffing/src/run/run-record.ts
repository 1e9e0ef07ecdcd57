/**
 * run.json: one per pipeline run folder — the resolved config, package versions, git commit, seed, and the
 * timings of every command and stage run in it. Updated (atomically) after each command; paths inside are
 * relative to the run folder, so the folder can move.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { writeJsonAtomic } from "./json-files.ts";

export interface RunEvent {
  readonly command: string;
  readonly startedAt: string;
  readonly wallS: number;
  readonly details?: Record<string, unknown>;
}

const APP_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** Versions of the app and the workspace packages it runs on, plus Node. */
export function versions(): Record<string, string> {
  const out: Record<string, string> = { node: process.version };
  const read = (file: string) => { try { const p = JSON.parse(fs.readFileSync(file, "utf8")) as { name: string; version: string }; out[p.name] = p.version; } catch { /* not installed */ } };
  read(path.join(APP_ROOT, "package.json"));
  for (const pkg of ["tensor", "tokenizer", "chat", "runtime", "sae", "data", "stats", "plot", "wandb"]) read(path.join(APP_ROOT, "../../packages", pkg, "package.json"));
  return out;
}

/** The commit the code ran at (and whether the tree had changes), or null outside a git checkout. */
export function gitCommit(): { commit: string; dirty: boolean } | null {
  try {
    const commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd: APP_ROOT, stdio: ["ignore", "pipe", "ignore"] }).toString().trim();
    const status = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: APP_ROOT, stdio: ["ignore", "pipe", "ignore"] }).toString();
    return { commit, dirty: status.trim() !== "" };
  } catch {
    return null;
  }
}

/** Absolute paths inside `value` rewritten relative to `root`. */
export function relativePaths<T>(value: T, root: string): T {
  if (typeof value === "string") return (path.isAbsolute(value) ? path.relative(root, value) || "." : value) as T;
  if (Array.isArray(value)) return value.map((v) => relativePaths(v, root)) as T;
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, relativePaths(v, root)])) as T;
  return value;
}

/** Adds one command's record to <runDir>/run.json (creating it with config, versions, commit and seed). */
export function recordRun(runDir: string, config: Record<string, unknown>, seed: number, event: RunEvent): void {
  const file = path.join(runDir, "run.json");
  const prior = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as { createdAt?: string; events?: RunEvent[] }) : {};
  writeJsonAtomic(file, {
    format: "difflens-diffing-run", version: 1,
    createdAt: prior.createdAt ?? event.startedAt, updatedAt: new Date().toISOString(),
    config: relativePaths(config, runDir), seed, versions: versions(), git: gitCommit(),
    events: [...(prior.events ?? []), event],
  });
}
