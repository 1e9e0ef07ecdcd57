/**
 * Where the Hugging Face Hub cache is, in huggingface_hub's own order, so that model and tokenizer loading look in
 * the same place as the Python libraries:
 *   1. `HF_HUB_CACHE` (and its legacy spelling `HUGGINGFACE_HUB_CACHE`)
 *   2. `HF_HOME/hub`
 *   3. `XDG_CACHE_HOME/huggingface/hub`
 *   4. `~/.cache/huggingface/hub`
 * Pass `env` explicitly in tests; nothing here reads the environment at import time.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { basename, join } from "node:path";

export function hubCacheDir(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  const explicit = env["HF_HUB_CACHE"] || env["HUGGINGFACE_HUB_CACHE"];
  if (explicit) return explicit;
  if (env["HF_HOME"]) return join(env["HF_HOME"], "hub");
  if (env["XDG_CACHE_HOME"]) return join(env["XDG_CACHE_HOME"], "huggingface", "hub");
  return join(home, ".cache", "huggingface", "hub");
}

/** `Qwen/Qwen2.5-7B-Instruct` → `models--Qwen--Qwen2.5-7B-Instruct` (the Hub cache's folder name for a model repo). */
export function hubRepoFolderName(repoId: string): string {
  return `models--${repoId.split("/").join("--")}`;
}

/** `…/models--Qwen--Qwen2.5-7B-Instruct` → `Qwen/Qwen2.5-7B-Instruct`; undefined for a folder of another name. */
export function repoIdOfHubFolder(repoFolder: string): string | undefined {
  const match = /^models--(.+?)--(.+)$/.exec(basename(repoFolder));
  return match ? `${match[1]}/${match[2]}` : undefined;
}

/** Parses `ORG/NAME[@revision]`; undefined when the string is not of that form (a local path, say). */
export function parseRepoId(spec: string): { repoId: string; revision: string } | undefined {
  const match = /^([A-Za-z0-9][\w.-]*\/[\w.-]+)(?:@([\w./-]+))?$/.exec(spec);
  return match ? { repoId: match[1]!, revision: match[2] ?? "main" } : undefined;
}

/** Where a revision of a Hub repo folder points, and what the folder holds (for the error when it is missing). */
export interface HubSnapshotLookup {
  /** The snapshot folder, or undefined when the revision has none. */
  readonly snapshot: string | undefined;
  /** The commit the revision resolved to (`refs/<revision>`'s content, or the revision itself). */
  readonly commit: string;
  /** `refs/<revision>` when it exists. */
  readonly refFile: string | undefined;
  /** Snapshot folders present. */
  readonly available: readonly string[];
}

/**
 * In a `models--ORG--NAME` folder: `revision` (a branch or tag via `refs/<revision>`, or a commit hash naming a
 * snapshot folder) → its snapshot folder. Each package turns a miss into its own error.
 */
export function findHubSnapshot(repoFolder: string, revision = "main"): HubSnapshotLookup {
  const refPath = join(repoFolder, "refs", revision);
  const refFile = existsSync(refPath) && statSync(refPath).isFile() ? refPath : undefined;
  const commit = refFile ? readFileSync(refFile, "utf8").trim() : revision;
  const candidate = join(repoFolder, "snapshots", commit);
  const snapshot = existsSync(candidate) && statSync(candidate).isDirectory() ? candidate : undefined;
  const snapshots = join(repoFolder, "snapshots");
  const available = snapshot === undefined && existsSync(snapshots) ? readdirSync(snapshots) : [];
  return { snapshot, commit, refFile, available };
}
