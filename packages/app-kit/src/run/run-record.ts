/**
 * `run.json`: one per run folder, an append-only log. The first command writes the header — the resolved config
 * (paths relative to the folder), the app's and packages' versions, the git commit, the seed — and every command
 * appends one event (command, start, wall time, details, git commit, compute backend). The header is never rewritten: an event run
 * with another config or seed carries its own `config` / `seed`, so the record never claims a config that the
 * folder's results were not made with. Written atomically (a reader sees the old record or the new one).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { writeJsonAtomic } from "@difflens/common";
import { currentBackend } from "@difflens/tensor";
import { AppKitError } from "../errors.ts";
import { relativePaths } from "./run-folder.ts";

export interface RunEvent {
  readonly command: string;
  /** ISO time. */
  readonly startedAt: string;
  readonly wallS: number;
  readonly details?: Record<string, unknown>;
}

/** An event as recorded: what differs from the header is carried by the event itself. */
export interface RecordedRunEvent extends RunEvent {
  /** The commit the command ran at (null outside a git checkout). */
  readonly git?: { readonly commit: string; readonly dirty: boolean } | null;
  /** The compute backend the command ran on ("native", "js", "webgpu"). */
  readonly backend?: string;
  /** Present only when this command's config differs from the header's. */
  readonly config?: unknown;
  /** Present only when this command's seed differs from the header's. */
  readonly seed?: number;
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
  readonly events: readonly RecordedRunEvent[];
}

/**
 * Appends one command's event to `<runDir>/run.json` (made on first use, header from this call) and returns the
 * record written. Earlier content is kept as it was read.
 */
export function recordRun(runDir: string, info: RunInfo, event: RunEvent): RunRecord {
  const prior = readRunRecord(runDir);
  const appDir = path.dirname(fileURLToPath(info.app));
  const config = relativePaths(info.config, runDir);
  const git = gitCommit(appDir);
  const header = prior ?? {
    format: info.format,
    version: 1 as const,
    createdAt: event.startedAt,
    config,
    seed: info.seed,
    versions: packageVersions(appDir),
    git,
  };
  const recorded: RecordedRunEvent = {
    ...event,
    git,
    backend: currentBackend().name,
    ...(sameJson(header.config, config) ? {} : { config }),
    ...(header.seed === info.seed ? {} : { seed: info.seed }),
  };
  const record: RunRecord = {
    format: header.format,
    version: 1,
    createdAt: header.createdAt,
    updatedAt: new Date().toISOString(),
    config: header.config,
    seed: header.seed,
    versions: header.versions,
    git: header.git,
    events: [...(prior?.events ?? []), recorded],
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
      fix: "restore it from a backup, or move it aside (the next command starts a new record)",
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

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
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
