// Inside one Hub repo folder; where the cache itself is comes from @difflens/common's hubCacheDir.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { TokenizerError } from "./errors.ts";

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
