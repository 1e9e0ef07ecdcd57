// Inside one Hub repo folder; where the cache itself is comes from @difflens/common's hubCacheDir.
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { findHubSnapshot } from "@difflens/common";
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
  const found = findHubSnapshot(repoFolder, revision);
  if (found.snapshot !== undefined) return found.snapshot;
  throw new TokenizerError("HUB_SNAPSHOT_NOT_FOUND", `no snapshot for revision "${revision}"`, {
    file: found.refFile ?? join(repoFolder, "snapshots"),
    expected: `snapshots/${found.commit}/`,
    got: found.available.length > 0 ? `snapshots: ${found.available.join(", ")}` : "no snapshots",
    fix: "download it (`difflens-download ORG/NAME --revision R` of @difflens/runtime, or huggingface-cli download) or pass one of the listed revisions",
  });
}
