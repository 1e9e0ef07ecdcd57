import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { TokenizerError } from "./errors.ts";

/**
 * The local Hugging Face Hub cache: `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`.
 * Pass `env` explicitly in tests; nothing here reads the environment at import time.
 */
export function defaultHubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env["HF_HUB_CACHE"]) return env["HF_HUB_CACHE"];
  if (env["HF_HOME"]) return join(env["HF_HOME"], "hub");
  return join(homedir(), ".cache", "huggingface", "hub");
}

/** `Qwen/Qwen2.5-7B-Instruct` → `<cacheDir>/models--Qwen--Qwen2.5-7B-Instruct`. */
export function hubRepoFolder(cacheDir: string, repoId: string): string {
  return join(cacheDir, `models--${repoId.split("/").join("--")}`);
}

/** True when `dir` looks like a Hub repo folder (`refs/` and `snapshots/` inside). */
export function isHubRepoFolder(dir: string): boolean {
  return existsSync(join(dir, "snapshots")) && statSync(join(dir, "snapshots")).isDirectory();
}

/**
 * Resolves a Hub repo folder (`models--ORG--NAME`) to one snapshot folder: `revision` (default `main`) is looked up
 * in `refs/<revision>` (a file holding the commit hash); a commit hash naming a snapshot folder works directly.
 */
export function resolveHubSnapshot(repoFolder: string, revision = "main"): string {
  const refFile = join(repoFolder, "refs", revision);
  let commit = revision;
  if (existsSync(refFile)) commit = readFileSync(refFile, "utf8").trim();
  const snapshot = join(repoFolder, "snapshots", commit);
  if (existsSync(snapshot) && statSync(snapshot).isDirectory()) return snapshot;
  const available = existsSync(join(repoFolder, "snapshots")) ? readdirSync(join(repoFolder, "snapshots")) : [];
  throw new TokenizerError("HUB_SNAPSHOT_NOT_FOUND", `no snapshot for revision "${revision}"`, {
    file: existsSync(refFile) ? refFile : join(repoFolder, "snapshots"),
    expected: `snapshots/${commit}/`,
    got: available.length > 0 ? `snapshots: ${available.join(", ")}` : "no snapshots",
    fix: "download the model (huggingface-cli download) or pass one of the listed revisions",
  });
}
