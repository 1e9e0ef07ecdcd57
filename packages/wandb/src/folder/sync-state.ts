import { existsSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "@difflens/common";
import { WandbError } from "../errors.ts";
import { FILES } from "./layout.ts";
import { readJson } from "./run-folder.ts";

/** What one server has acknowledged for this run. Written after every acknowledged request. */
export interface TargetState {
  /** Entity the run lives under (resolved from the server when the run did not name one). */
  entity: string | null;
  /** UpsertBucket succeeded at least once. */
  upserted: boolean;
  /** Digest of the config last acknowledged by UpsertBucket. */
  configDigest: string | null;
  /** History lines the server acknowledged: the offset of the next line to send. */
  historyAcked: number;
  /** Digest of the summary last acknowledged. */
  summaryDigest: string | null;
  /** File name → "size:mtimeMs" of the version uploaded. */
  uploaded: Record<string, string>;
  /** The `complete` request was acknowledged: the run is closed on the server. */
  completeSent: boolean;
  /** Last fatal (non-retryable) error, so a later sync can report it. */
  lastError: string | null;
}

interface SyncStateFile {
  format: "difflens-wandb-sync-state";
  version: 1;
  /** Keyed by API base URL: syncing to another server starts from zero there. */
  targets: Record<string, TargetState>;
}

export function emptyTargetState(): TargetState {
  return {
    entity: null,
    upserted: false,
    configDigest: null,
    historyAcked: 0,
    summaryDigest: null,
    uploaded: {},
    completeSent: false,
    lastError: null,
  };
}

export function loadTargetState(folder: string, baseUrl: string): TargetState {
  const file = readStateFile(folder);
  return { ...emptyTargetState(), ...(file.targets[baseUrl] ?? {}) };
}

export function saveTargetState(folder: string, baseUrl: string, state: TargetState): void {
  const file = readStateFile(folder);
  file.targets[baseUrl] = state;
  writeFileAtomic(join(folder, FILES.syncState), `${JSON.stringify(file, null, 2)}\n`);
}

function readStateFile(folder: string): SyncStateFile {
  const path = join(folder, FILES.syncState);
  if (!existsSync(path)) return { format: "difflens-wandb-sync-state", version: 1, targets: {} };
  const raw = readJson(path) as Partial<SyncStateFile>;
  if (raw.format !== "difflens-wandb-sync-state" || typeof raw.targets !== "object" || raw.targets === null) {
    throw new WandbError("RUN_FOLDER_CORRUPT", "sync state was not written by difflens-wandb", {
      file: path,
      field: "format",
      fix: "delete sync-state.json; the next sync asks the server how far it got (RunResumeStatus)",
    });
  }
  return raw as SyncStateFile;
}
