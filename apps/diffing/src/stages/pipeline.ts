/**
 * Trains the requested stages in lineage order, with missing parents first when allowed. Before anything is
 * loaded or trained, every stage it would use is checked against the config's fingerprints: a finished stage is
 * reused, a partial one resumed, and one made under another config refuses the whole command (see stage-check.ts);
 * `retrain` moves named stages (and what depends on them) aside first.
 */
import { UsageError } from "@difflens/common";
import type { DiffingConfig, StageName } from "../config/diffing-config.ts";
import { DiffingError } from "../errors.ts";
import { openPipelineModels, type PipelineModels } from "../models/open-models.ts";
import { retireStages } from "./retire.ts";
import { runStage } from "./run-stage.ts";
import {
  inspectStage,
  mismatchError,
  retrainConsequence,
  retrainRoots,
  type StageProblem,
  type StageState,
} from "./stage-check.ts";
import { stageFingerprints } from "./stage-fingerprint.ts";
import { STAGES, type StageRecord, withAncestors, withDescendants } from "./stage-plan.ts";

export interface TrainStagesOptions {
  /** Train missing ancestors first (always on for the default config), else a missing parent is an error. */
  readonly withParents: boolean;
  /** Why parents are trained (said in the log), e.g. "the default config trains missing parents". */
  readonly withParentsReason: string;
  readonly log: (line: string) => void;
  /** Reuse models already open (the demo opens them once). */
  readonly models?: PipelineModels;
  /** Stages to train again: they and their descendants (and compare/, features/) are moved aside first. */
  readonly retrain?: readonly StageName[];
  /** The command, for messages (default "train-stage…"). */
  readonly command?: string;
  /** Called with [from, to] for each folder moved aside by `retrain` (the run record's event). */
  readonly onRetired?: (moved: Array<[string, string]>) => void;
}

export async function trainStages(
  config: DiffingConfig,
  requested: readonly StageName[],
  opts: TrainStagesOptions,
): Promise<Partial<Record<StageName, StageRecord>>> {
  const command = opts.command ?? "train-stage…";
  const order = withAncestors(requested);
  const fingerprints = stageFingerprints(config);
  const retired = withDescendants(opts.retrain ?? []);
  const notTrained = retired.filter((s) => order.includes(s) && !requested.includes(s) && !opts.withParents);
  if (notTrained.length > 0) {
    const first = notTrained[0]!;
    const what = `--retrain ${opts.retrain!.join(",")} would move ${notTrained.join(", ")} aside`;
    throw new UsageError("USAGE", `${command}: ${what}, which ${command} needs but does not train`, {
      field: "--retrain",
      fix: `add --with-parents, or run \`pnpm --filter diffing ${STAGES[first].command} --retrain ${first}\` first`,
    });
  }
  // Stages about to be retrained count as absent: the check runs before anything is moved.
  const states = new Map<StageName, StageState>();
  for (const s of order) {
    states.set(s, retired.includes(s) ? { kind: "absent" } : inspectStage(config, s, fingerprints));
  }
  const problems: StageProblem[] = [];
  for (const [stage, state] of states) {
    if (state.kind === "changed" || state.kind === "unknown") problems.push({ stage, state });
  }
  if (problems.length > 0) {
    const roots = retrainRoots(problems);
    const needsParents = roots.some((s) => !requested.includes(s)) && !opts.withParents;
    const withParents = needsParents ? " --with-parents" : "";
    const retry = `\`pnpm --filter diffing ${command} … --retrain ${roots.join(",")}${withParents}\` (this command's flags plus --retrain)`;
    const trainedHere = opts.withParents || needsParents ? order : [...requested];
    const waysOut = `another run folder (--run-dir DIR), or ${retry}: ${retrainConsequence(roots, trainedHere)}`;
    throw mismatchError(command, config, problems, waysOut);
  }
  for (const s of order) {
    if (requested.includes(s) || states.get(s)!.kind === "done") continue;
    if (!opts.withParents) {
      const child = order.find((c) => STAGES[c].parent === s)!;
      const what = `stage ${child} (${STAGES[child].alias}) needs ${s} (${STAGES[s].alias})`;
      throw new DiffingError("PARENT_MISSING", `${what}, which is not trained in ${config.runDir}`, {
        fix:
          `run \`pnpm --filter diffing ${STAGES[s].command} --config ${config.file ?? "<config>"}\` first, ` +
          "or add --with-parents",
      });
    }
    opts.log(`${s} (${STAGES[s].alias}) is missing: training it first (${opts.withParentsReason})`);
  }
  if (retired.length > 0) {
    const moved = retireStages(config, opts.retrain!);
    for (const [from, to] of moved) opts.log(`--retrain: moved ${from} aside to ${to}`);
    opts.onRetired?.(moved);
  }
  const models = opts.models ?? (await openPipelineModels(config, opts.log));
  try {
    const out: Partial<Record<StageName, StageRecord>> = {};
    for (const s of order) out[s] = await runStage({ config, models, log: opts.log, fingerprints }, s);
    return out;
  } finally {
    if (!opts.models) models.close();
  }
}
