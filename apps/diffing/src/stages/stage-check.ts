/**
 * Whether what a run folder holds for a stage was made under the current config: a finished or partial stage is
 * used (or resumed) only when its recorded fingerprint equals the one the config gives now; otherwise commands
 * refuse, naming the fields that differ and the ways out (another run folder, or `--retrain`, which moves the old
 * outputs aside). Readers (`compare`, `features`) verify the same way before they load a checkpoint.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { diffFingerprints, type FieldChange, formatFieldChanges } from "@difflens/app-kit";
import type { DiffingConfig, StageName } from "../config/diffing-config.ts";
import { DiffingError } from "../errors.ts";
import type { StageFingerprints } from "./stage-fingerprint.ts";
import {
  readStageRecord,
  STAGE_FINGERPRINT_FILE,
  STAGES,
  type StageRecord,
  stageDir,
  withDescendants,
} from "./stage-plan.ts";

export type StageState =
  | { readonly kind: "absent" }
  | { readonly kind: "done"; readonly record: StageRecord }
  /** Started under the same fingerprint and interrupted: resumed. */
  | { readonly kind: "partial" }
  | { readonly kind: "changed"; readonly finished: boolean; readonly changes: readonly FieldChange[] }
  /** Holds something without a fingerprint (made before difflens recorded them, or not by this pipeline). */
  | { readonly kind: "unknown"; readonly finished: boolean };

export interface StageProblem {
  readonly stage: StageName;
  readonly state: Extract<StageState, { kind: "changed" | "unknown" }>;
}

export function inspectStage(config: DiffingConfig, stage: StageName, expected: StageFingerprints): StageState {
  const dir = stageDir(config, stage);
  if (!fs.existsSync(dir) || fs.readdirSync(dir).length === 0) return { kind: "absent" };
  const record = readStageRecord(config, stage);
  if (record !== null) {
    if (record.fingerprintDigest === undefined) return { kind: "unknown", finished: true };
    const changes = [
      ...fingerprintChanges(record.fingerprintDigest, record.fingerprint, expected, stage),
      ...parentCheckpointChange(config, record),
    ];
    return changes.length === 0 ? { kind: "done", record } : { kind: "changed", finished: true, changes };
  }
  const file = path.join(dir, STAGE_FINGERPRINT_FILE);
  if (!fs.existsSync(file)) return { kind: "unknown", finished: false };
  const started = JSON.parse(fs.readFileSync(file, "utf8")) as { digest: string; fields: unknown };
  const changes = fingerprintChanges(started.digest, started.fields, expected, stage);
  return changes.length === 0 ? { kind: "partial" } : { kind: "changed", finished: false, changes };
}

/** The finished stages a reader needs, each verified against the config; refuses missing or changed ones. */
export function verifiedStageRecords(
  config: DiffingConfig,
  stages: readonly StageName[],
  expected: StageFingerprints,
  command: string,
): Record<StageName, StageRecord> {
  const out = {} as Record<StageName, StageRecord>;
  const problems: StageProblem[] = [];
  for (const stage of stages) {
    const state = inspectStage(config, stage, expected);
    if (state.kind === "done") out[stage] = state.record;
    else if (state.kind === "changed" || state.kind === "unknown") problems.push({ stage, state });
    else {
      const what = `stage ${stage} (${STAGES[stage].alias}), which is not trained in ${config.runDir}`;
      throw new DiffingError("STAGE_MISSING", `${command} needs ${what}`, {
        fix: `run \`pnpm --filter diffing ${STAGES[stage].command}\` with this config first`,
      });
    }
  }
  if (problems.length > 0) {
    const roots = retrainRoots(problems);
    const commands = [...new Set(roots.map((s) => STAGES[s].command))];
    const retrain = commands.map((c) => {
      const mine = roots.filter((s) => STAGES[s].command === c);
      return `\`pnpm --filter diffing ${c} … --retrain ${mine.join(",")}\``;
    });
    const waysOut =
      `use the config they were trained with (${path.join(config.runDir, "run.json")} records it), ` +
      `or retrain them under this one (… = this command's flags): ${retrain.join(", then ")}: ${retrainConsequence(roots, roots)}`;
    throw mismatchError(command, config, problems, waysOut);
  }
  return out;
}

/** The refusal of a command that would mix configs, with the ways out. */
export function mismatchError(
  command: string,
  config: DiffingConfig,
  problems: readonly StageProblem[],
  waysOut: string,
): DiffingError {
  const lines = problems.map(({ stage, state }) => {
    const made = state.finished ? "trained" : "partly trained";
    return `  ${stage} (${STAGES[stage].alias}, ${made}): ${describeProblem(stage, state)}`;
  });
  const first = problems[0]!;
  const change = first.state.kind === "changed" ? first.state.changes[0] : undefined;
  const summary =
    `${command}: ${config.runDir} holds stages made under another config ` +
    "(reusing them would mix two configs; nothing was changed)";
  return new DiffingError("FINGERPRINT_MISMATCH", `${summary}:\n${lines.join("\n")}\nWays out: ${waysOut}`, {
    file: config.runDir,
    ...(change ? { field: `${first.stage}: ${change.field}`, expected: change.current, got: change.recorded } : {}),
  });
}

/** The problem stages whose parent is not itself a problem: retraining them retrains the rest. */
export function retrainRoots(problems: readonly StageProblem[]): StageName[] {
  const bad = new Set(problems.map((p) => p.stage));
  return problems.map((p) => p.stage).filter((s) => STAGES[s].parent === null || !bad.has(STAGES[s].parent!));
}

/**
 * "--retrain S moves …; a retrained stage invalidates its children …": said in every refusal that offers it.
 * `trainedHere`: the stages the refused command would train itself (it retrains those children too).
 */
export function retrainConsequence(roots: readonly StageName[], trainedHere: readonly StageName[] = []): string {
  const children = withDescendants(roots).filter((s) => !roots.includes(s));
  const here = children.filter((s) => trainedHere.includes(s));
  const later = children.filter((s) => !trainedHere.includes(s));
  const commands = [...new Set(later.map((s) => STAGES[s].command))];
  const aside = roots.map((s) => `stages/${s}.retired-<time>/`).join(", ");
  const parts = [
    `--retrain ${roots.join(",")} moves the old outputs aside (${aside}, compare/ and features/; never deleted)`,
  ];
  if (children.length > 0) {
    parts.push(`a retrained stage invalidates its children: ${children.join(", ")} are moved aside too`);
  }
  if (here.length > 0) parts.push(`this command retrains ${here.join(", ")}`);
  if (later.length > 0) parts.push(`${later.join(", ")} must then be retrained (${commands.join(", ")})`);
  return parts.join("; ");
}

function describeProblem(stage: StageName, state: StageProblem["state"]): string {
  if (state.kind === "unknown") {
    return (
      "has no fingerprint (made before difflens recorded them, or not by this pipeline): " +
      "which config made it cannot be checked"
    );
  }
  const parent = state.changes.find((c) => c.field === "parent.fingerprint");
  const own = state.changes.filter((c) => c !== parent);
  const parts = own.length > 0 ? [formatFieldChanges(own)] : [];
  if (parent) parts.push(`its parent ${STAGES[stage].parent} changed`);
  return parts.join("; ");
}

function fingerprintChanges(
  recordedDigest: string,
  recordedFields: unknown,
  expected: StageFingerprints,
  stage: StageName,
): FieldChange[] {
  if (recordedDigest === expected.digests[stage]) return [];
  const changes = diffFingerprints(recordedFields, expected.fields[stage]);
  if (changes.length > 0) return changes;
  return [{ field: "fingerprint", recorded: recordedDigest, current: expected.digests[stage] }];
}

/** A finished child whose parent checkpoint is no longer the one it was finetuned from (files swapped by hand). */
function parentCheckpointChange(config: DiffingConfig, record: StageRecord): FieldChange[] {
  if (record.parent === null) return [];
  const parent = readStageRecord(config, record.parent.stage);
  if (parent === null || parent.sha256 === record.parent.sha256) return [];
  const field = `parent checkpoint (${record.parent.stage}) sha256`;
  return [{ field, recorded: record.parent.sha256, current: parent.sha256 }];
}
