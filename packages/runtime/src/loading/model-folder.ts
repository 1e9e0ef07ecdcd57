import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { RuntimeError } from "../errors.ts";

/** The Hub cache root: HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub (as huggingface_hub does). */
export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HF_HOME) return path.join(env.HF_HOME, "hub");
  return path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "huggingface", "hub");
}

/** `ORG/NAME` → `models--ORG--NAME`. */
export function repoFolderName(repoId: string): string {
  return `models--${repoId.split("/").join("--")}`;
}

/** Parses `ORG/NAME[@rev]`; undefined when the string is not of that form. */
export function parseRepoId(spec: string): { repoId: string; revision: string } | undefined {
  const m = /^([A-Za-z0-9][\w.-]*\/[\w.-]+)(?:@([\w./-]+))?$/.exec(spec);
  return m ? { repoId: m[1]!, revision: m[2] ?? "main" } : undefined;
}

/** In a `models--ORG--NAME` folder: the snapshot of a revision (branch/tag via refs/, or a commit hash). */
export function snapshotOf(repoDir: string, revision = "main"): string {
  const refFile = path.join(repoDir, "refs", revision);
  let commit = revision;
  if (fs.existsSync(refFile)) commit = fs.readFileSync(refFile, "utf8").trim();
  const snap = path.join(repoDir, "snapshots", commit);
  if (!fs.existsSync(snap)) {
    const have = fs.existsSync(path.join(repoDir, "snapshots")) ? fs.readdirSync(path.join(repoDir, "snapshots")) : [];
    throw new RuntimeError("MODEL_NOT_FOUND", `${repoDir}: no snapshot for revision "${revision}" (commit ${commit}); snapshots present: ${have.join(", ") || "none"}`, { file: repoDir, got: revision, expected: have });
  }
  return snap;
}

/**
 * Finds the HF model folder for `source`: a folder with config.json; a Hub cache repo folder
 * (`…/models--ORG--NAME`, resolving refs/main or `revision`); or `ORG/NAME[@rev]` looked up in the Hub cache.
 */
export function resolveModelFolder(source: string, opts: { revision?: string; cacheDir?: string } = {}): string {
  if (fs.existsSync(source) && fs.statSync(source).isDirectory()) {
    if (fs.existsSync(path.join(source, "config.json"))) return source;
    if (fs.existsSync(path.join(source, "snapshots"))) return snapshotOf(source, opts.revision);
    throw new RuntimeError("MODEL_NOT_FOUND", `${source}: not a model folder (no config.json) and not a Hub cache repo folder (no snapshots/)`, { file: source });
  }
  const repo = parseRepoId(source);
  if (repo) {
    const cache = opts.cacheDir ?? hubCacheDir();
    const repoDir = path.join(cache, repoFolderName(repo.repoId));
    if (fs.existsSync(repoDir)) return snapshotOf(repoDir, opts.revision ?? repo.revision);
    throw new RuntimeError("MODEL_NOT_FOUND", `"${source}" is not a folder and ${repoDir} is not in the Hub cache; download it first (downloadModel("${repo.repoId}"))`, { file: repoDir, got: source });
  }
  throw new RuntimeError("MODEL_NOT_FOUND", `${source}: no such folder`, { file: source });
}
