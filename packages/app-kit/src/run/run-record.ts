/**
 * `run.json`: one per run folder — the resolved config (paths relative to the folder), the app's and packages'
 * versions, the git commit, the seed, and one event (command, start, wall time, details) per command run in it.
 * Rewritten atomically after each command.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { writeJsonAtomic } from "@difflens/common";
import { AppKitError } from "../errors.ts";
import { relativePaths } from "./run-folder.ts";

export interface RunEvent {
  readonly command: string;
  /** ISO time. */
  readonly startedAt: string;
  readonly wallS: number;
  readonly details?: Record<string, unknown>;
}

export interface RunInfo {
  /** Names the kind of run folder, e.g. "difflens-diffing-run". */
  readonly format: string;
  /** `import.meta.url` of any module of the app: its package.json and git checkout are found from there. */
  readonly app: string;
  readonly config: object;
  readonly seed: number;
}

export interface RunRecord {
  readonly format: string;
  readonly version: 1;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly config: unknown;
  readonly seed: number;
  readonly versions: Record<string, string>;
  readonly git: { readonly commit: string; readonly dirty: boolean } | null;
  readonly events: readonly RunEvent[];
}

/** Adds one command's event to `<runDir>/run.json` (made on first use) and returns the record written. */
export function recordRun(runDir: string, info: RunInfo, event: RunEvent): RunRecord {
  const prior = readRunRecord(runDir);
  const appDir = path.dirname(fileURLToPath(info.app));
  const record: RunRecord = {
    format: info.format,
    version: 1,
    createdAt: prior?.createdAt ?? event.startedAt,
    updatedAt: new Date().toISOString(),
    config: relativePaths(info.config, runDir),
    seed: info.seed,
    versions: packageVersions(appDir),
    git: gitCommit(appDir),
    events: [...(prior?.events ?? []), event],
  };
  writeJsonAtomic(path.join(runDir, "run.json"), record);
  return record;
}

/** `<runDir>/run.json`, or null when the folder has none yet. */
export function readRunRecord(runDir: string): RunRecord | null {
  const file = path.join(runDir, "run.json");
  if (!fs.existsSync(file)) return null;
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as RunRecord;
  } catch (e) {
    throw new AppKitError("RUN_RECORD_INVALID", `${file}: not valid JSON (${(e as Error).message})`, {
      file,
      fix: "restore or delete it (it is rewritten by the next command)",
    });
  }
}

/** Starts timing a command; `end(details)` is its event for `recordRun`. */
export function startRunEvent(command: string): { end(details?: Record<string, unknown>): RunEvent } {
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  return {
    end: (details) => ({ command, startedAt, wallS: (performance.now() - t0) / 1000, ...(details ? { details } : {}) }),
  };
}

const APP_KIT_DIR = path.dirname(fileURLToPath(import.meta.url));

/** Node's version, the app's, and those of the difflens packages the app and app-kit depend on. */
export function packageVersions(appDir: string): Record<string, string> {
  const out: Record<string, string> = { node: process.version };
  const roots = [appDir, APP_KIT_DIR];
  const manifests = roots.map((root) => readManifest(findUp(root, "package.json")));
  if (manifests[0]) out[manifests[0].name] = manifests[0].version;
  const names = new Set<string>();
  for (const m of manifests) {
    for (const dep of Object.keys(m?.dependencies ?? {})) if (dep.startsWith("@difflens/")) names.add(dep);
  }
  for (const name of [...names].sort()) {
    const found = roots.map((root) => readManifest(findUp(root, path.join("node_modules", name, "package.json"))));
    const version = found.find((m) => m !== null)?.version;
    if (version !== undefined) out[name] = version;
  }
  return out;
}

/** The commit checked out at `dir` (and whether tracked files changed), or null outside a git checkout. */
export function gitCommit(dir: string): { commit: string; dirty: boolean } | null {
  const git = (...args: string[]) =>
    execFileSync("git", args, { cwd: dir, stdio: ["ignore", "pipe", "ignore"] }).toString();
  try {
    const commit = git("rev-parse", "HEAD").trim();
    return { commit, dirty: git("status", "--porcelain", "--untracked-files=no").trim() !== "" };
  } catch {
    return null;
  }
}

interface Manifest {
  readonly name: string;
  readonly version: string;
  readonly dependencies?: Record<string, string>;
}

function readManifest(file: string | null): Manifest | null {
  if (file === null) return null;
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as Manifest;
  } catch {
    return null;
  }
}

/** `relative` in `start` or the nearest folder above it that has it. */
function findUp(start: string, relative: string): string | null {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, relative);
    if (fs.existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) return null;
  }
}
