/** Trains the requested stages in lineage order, with missing parents first when allowed. */
import type { DiffingConfig, StageName } from "../config/diffing-config.ts";
import { DiffingError } from "../errors.ts";
import { openPipelineModels, type PipelineModels } from "../models/open-models.ts";
import { runStage } from "./run-stage.ts";
import { readStageRecord, STAGES, type StageRecord, withAncestors } from "./stage-plan.ts";

export interface TrainStagesOptions {
  /** Train missing ancestors first (always on for the default config), else a missing parent is an error. */
  readonly withParents: boolean;
  /** Why parents are trained (said in the log), e.g. "the default config trains missing parents". */
  readonly withParentsReason: string;
  readonly log: (line: string) => void;
  /** Reuse models already open (the demo opens them once). */
  readonly models?: PipelineModels;
}

export async function trainStages(
  config: DiffingConfig,
  requested: readonly StageName[],
  opts: TrainStagesOptions,
): Promise<Partial<Record<StageName, StageRecord>>> {
  const order = withAncestors(requested);
  for (const s of order) {
    if (requested.includes(s) || readStageRecord(config, s)) continue;
    if (!opts.withParents) {
      const child = order.find((c) => STAGES[c].parent === s)!;
      throw new DiffingError(
        "PARENT_MISSING",
        `stage ${child} (${STAGES[child].alias}) needs ${s} (${STAGES[s].alias}), which is not trained in ${config.runDir}`,
        {
          fix: `run \`pnpm --filter diffing ${STAGES[s].command} --config ${config.file ?? "<config>"}\` first, or add --with-parents`,
        },
      );
    }
    opts.log(`${s} (${STAGES[s].alias}) is missing: training it first (${opts.withParentsReason})`);
  }
  const models = opts.models ?? (await openPipelineModels(config, opts.log));
  try {
    const out: Partial<Record<StageName, StageRecord>> = {};
    for (const s of order) out[s] = await runStage({ config, models, log: opts.log }, s);
    return out;
  } finally {
    if (!opts.models) models.close();
  }
}
