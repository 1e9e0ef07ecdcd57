import * as fs from "node:fs";
import * as path from "node:path";
import { findHubSnapshot, hubCacheDir, hubRepoFolderName, parseRepoId } from "@difflens/common";
import { RuntimeError } from "../errors.ts";

/** In a `models--ORG--NAME` folder: the snapshot of a revision (branch/tag via refs/, or a commit hash). */
export function snapshotOf(repoDir: string, revision = "main"): string {
  const { snapshot, commit, available } = findHubSnapshot(repoDir, revision);
  if (snapshot !== undefined) return snapshot;
  throw new RuntimeError(
    "MODEL_NOT_FOUND",
    `${repoDir}: no snapshot for revision "${revision}" (commit ${commit}); snapshots present: ${available.join(", ") || "none"}`,
    { file: repoDir, got: revision, expected: available },
  );
}

/** Where `ORG/NAME` is looked up: an explicit cache folder, or the environment (Hugging Face's order). */
export interface HubCacheOptions {
  /** Hub cache root; default `hubCacheDir(env, home)` of @difflens/common. */
  readonly cacheDir?: string;
  /** Environment for HF_HUB_CACHE / HF_HOME / XDG_CACHE_HOME (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** Home folder for the last fallback, ~/.cache/huggingface/hub (default os.homedir()). */
  readonly home?: string;
}

/**
 * Finds the HF model folder for `source`: a folder with config.json; a Hub cache repo folder
 * (`…/models--ORG--NAME`, resolving refs/main or `revision`); or `ORG/NAME[@rev]` looked up in the Hub cache.
 */
export function resolveModelFolder(source: string, opts: HubCacheOptions & { revision?: string } = {}): string {
  if (fs.existsSync(source) && fs.statSync(source).isDirectory()) {
    if (fs.existsSync(path.join(source, "config.json"))) return source;
    if (fs.existsSync(path.join(source, "snapshots"))) return snapshotOf(source, opts.revision);
    throw new RuntimeError(
      "MODEL_NOT_FOUND",
      `${source}: not a model folder (no config.json) and not a Hub cache repo folder (no snapshots/)`,
      { file: source },
    );
  }
  const repo = parseRepoId(source);
  if (repo) {
    const cache = opts.cacheDir ?? hubCacheDir(opts.env, opts.home);
    const repoDir = path.join(cache, hubRepoFolderName(repo.repoId));
    if (fs.existsSync(repoDir)) return snapshotOf(repoDir, opts.revision ?? repo.revision);
    throw new RuntimeError(
      "MODEL_NOT_FOUND",
      `"${source}" is not a folder and ${repoDir} is not in the Hub cache; download it first (downloadModel("${repo.repoId}"))`,
      { file: repoDir, got: source },
    );
  }
  throw new RuntimeError("MODEL_NOT_FOUND", `${source}: no such folder`, { file: source });
}
