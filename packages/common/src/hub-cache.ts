/**
 * Where the Hugging Face Hub cache is, in huggingface_hub's own order, so that model and tokenizer loading look in
 * the same place as the Python libraries:
 *   1. `HF_HUB_CACHE` (and its legacy spelling `HUGGINGFACE_HUB_CACHE`)
 *   2. `HF_HOME/hub`
 *   3. `XDG_CACHE_HOME/huggingface/hub`
 *   4. `~/.cache/huggingface/hub`
 * Pass `env` explicitly in tests; nothing here reads the environment at import time.
 */
import { homedir } from "node:os";
import { join } from "node:path";

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

/** Parses `ORG/NAME[@revision]`; undefined when the string is not of that form (a local path, say). */
export function parseRepoId(spec: string): { repoId: string; revision: string } | undefined {
  const match = /^([A-Za-z0-9][\w.-]*\/[\w.-]+)(?:@([\w./-]+))?$/.exec(spec);
  return match ? { repoId: match[1]!, revision: match[2] ?? "main" } : undefined;
}
