/**
 * Which stages of an attention-marker run folder are up to date: each finished stage writes `stages/<stage>.json`
 * with the fingerprint of what it read (the config fields it uses, the digests of its input files and models) and
 * the files it wrote. A later run skips a stage whose fingerprint matches and whose outputs all exist, and says
 * which fields changed when it reruns one.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { diffFingerprints, fingerprintDigest, formatFieldChanges } from "@difflens/app-kit";
import { writeJsonAtomic } from "@difflens/common";

export const STAGES = ["generate", "readout", "force-feed", "analyze"] as const;
export type Stage = (typeof STAGES)[number];

export interface StageRecord {
  readonly stage: Stage;
  /** sha256 of the canonical JSON of `inputs`. */
  readonly digest: string;
  readonly inputs: unknown;
  /** Files written, relative to the run folder. */
  readonly outputs: readonly string[];
  /** null while the stage runs (an interrupted stage leaves it so). */
  readonly completedAt: string | null;
  readonly wallS: number;
}

export function stageRecordFile(runDir: string, stage: Stage): string {
  return path.join(runDir, "stages", `${stage}.json`);
}

export function readStageRecord(runDir: string, stage: Stage): StageRecord | null {
  const file = stageRecordFile(runDir, stage);
  if (!fs.existsSync(file)) return null;
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as StageRecord;
  } catch {
    return null; // unreadable: the stage reruns
  }
}

/**
 * null when the stage is up to date (same inputs, every output present), else why it must run: "not run yet",
 * the changed fields (`inputs changed (readout.offset: 0 → -1)`), "interrupted …" or "outputs missing: …".
 */
export function whyStageRuns(runDir: string, stage: Stage, inputs: unknown): string | null {
  const record = readStageRecord(runDir, stage);
  if (record === null) return "not run yet";
  if (record.digest !== fingerprintDigest(inputs))
    return `inputs changed (${formatFieldChanges(diffFingerprints(record.inputs, inputs), 4)})`;
  if (record.completedAt === null) return "interrupted earlier with the same inputs — resuming";
  const missing = record.outputs.filter((f) => !fs.existsSync(path.join(runDir, f)));
  return missing.length === 0 ? null : `outputs missing: ${missing.slice(0, 3).join(", ")}`;
}

/**
 * Marks a stage as running with these inputs. Returns true when what its earlier outputs were made from is unknown
 * or different (no record, or another fingerprint): the caller removes them first, so nothing made under other inputs
 * is reused; false when an earlier run with the same inputs was interrupted (its finished outputs may be reused).
 */
export function beginStage(runDir: string, stage: Stage, inputs: unknown): boolean {
  const record = readStageRecord(runDir, stage);
  const digest = fingerprintDigest(inputs);
  if (record !== null && record.digest === digest) return false;
  writeJsonAtomic(stageRecordFile(runDir, stage), { stage, digest, inputs, outputs: [], completedAt: null, wallS: 0 });
  return true;
}

/** Removes the files under `dir` (relative to the run folder) whose relative path matches `pattern`. */
export function removeFiles(runDir: string, dir: string, pattern: RegExp): void {
  for (const f of filesUnder(runDir, dir)) if (pattern.test(f)) fs.rmSync(path.join(runDir, f), { force: true });
}

export function writeStageRecord(
  runDir: string,
  stage: Stage,
  inputs: unknown,
  outputs: readonly string[],
  wallS: number,
): StageRecord {
  const record: StageRecord = {
    stage,
    digest: fingerprintDigest(inputs),
    inputs,
    outputs: outputs.map((f) => (path.isAbsolute(f) ? path.relative(runDir, f) : f)),
    completedAt: new Date().toISOString(),
    wallS,
  };
  writeJsonAtomic(stageRecordFile(runDir, stage), record);
  return record;
}

/** Every file under `dir` (recursively, sorted), relative to `root`; [] when `dir` does not exist. */
export function filesUnder(root: string, dir: string): string[] {
  const abs = path.join(root, dir);
  if (!fs.existsSync(abs)) return [];
  return (fs.readdirSync(abs, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((e) => e.isFile())
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)))
    .sort();
}
