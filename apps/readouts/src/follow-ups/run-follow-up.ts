/**
 * What the four follow-up commands share: the run folder's inputs, the models opened one at a time (each trained
 * model for its persona, then the comparator once for every persona — peak memory one model), and the output folder
 * `<runDir>/follow-ups/<command>/` with results.json, examples.jsonl and the figures, written atomically.
 */
import * as path from "node:path";
import { describeModelRef, loadModelRef, type ModelRef, writeJsonLines, writeOutputFolder } from "@difflens/app-kit";
import { type Log, writeJsonAtomic } from "@difflens/common";
import type { Model } from "@difflens/runtime";
import { type FollowUpInputs, type PersonaPositives, readFollowUpInputs } from "./follow-up-inputs.ts";

export interface FollowUpOptions {
  /** Sequences per forward pass (default: the run config's readout.batchSize). */
  readonly batchSize?: number;
  /** Replace an existing `follow-ups/<command>` folder. */
  readonly force?: boolean;
  readonly log?: Log;
}

export interface FollowUpOutcome<R> {
  /** `<runDir>/follow-ups/<command>`. */
  readonly dir: string;
  readonly results: R;
  /** The one-line summary the command prints. */
  readonly summary: string;
}

/** The personas a follow-up reads, and those it skips for want of positives (named in results.json). */
export interface FollowUpPlan {
  readonly inputs: FollowUpInputs;
  readonly personas: readonly PersonaPositives[];
  readonly skipped: readonly { readonly persona: string; readonly reason: string }[];
  readonly batchSize: number;
  readonly log: Log;
}

export function planFollowUp(command: string, runDir: string, options: FollowUpOptions): FollowUpPlan {
  const log = options.log ?? (() => {});
  const inputs = readFollowUpInputs(path.resolve(runDir));
  const skipped = inputs.personas
    .filter((p) => p.examples.length === 0)
    .map((p) => ({ persona: p.persona, reason: "no positives (the marker was never emitted)" }));
  for (const s of skipped) log(`${command}: skipping ${s.persona}: ${s.reason}`);
  return {
    inputs,
    personas: inputs.personas.filter((p) => p.examples.length > 0),
    skipped,
    batchSize: options.batchSize ?? inputs.config.readout.batchSize,
    log,
  };
}

/** Opens a model, runs `fn` on it and closes it (also when `fn` throws). */
export async function withModel<T>(ref: ModelRef, fn: (model: Model) => T): Promise<T> {
  const model = await loadModelRef(ref);
  try {
    return fn(model);
  } finally {
    model.close();
  }
}

/** Each persona's trained model on its own positives, one model at a time. */
export async function perTrainedModel<T>(
  plan: FollowUpPlan,
  fn: (model: Model, persona: PersonaPositives) => T,
): Promise<T[]> {
  const out: T[] = [];
  for (const p of plan.personas) {
    plan.log(`  trained ${p.persona} (${describeModelRef(p.model)}): ${p.examples.length} positives`);
    out.push(await withModel(p.model, (m) => fn(m, p)));
  }
  return out;
}

/** The comparator on every persona's positives (opened once), or null when the run has none. */
export async function perPersonaOnComparator<T>(
  plan: FollowUpPlan,
  fn: (model: Model, persona: PersonaPositives) => T,
): Promise<T[] | null> {
  const ref = plan.inputs.config.comparator;
  if (ref === null) {
    plan.log("  no comparator in the run's config: trained model only");
    return null;
  }
  plan.log(`  comparator (${describeModelRef(ref)})`);
  return withModel(ref, (m) => plan.personas.map((p) => fn(m, p)));
}

export const sequencesOf = (p: PersonaPositives) => p.examples.map((e) => e.tokens);

/** Writes `<runDir>/follow-ups/<command>/`: results.json (with the run's facts), examples.jsonl and figures. */
export async function writeFollowUp<R extends object>(
  command: string,
  plan: FollowUpPlan,
  results: R,
  examples: readonly unknown[],
  figures: (dir: string) => Promise<string[]>,
  options: FollowUpOptions,
): Promise<string> {
  const dir = path.join(plan.inputs.runDir, "follow-ups", command);
  await writeOutputFolder(
    dir,
    async (tmp) => {
      const written = await figures(tmp);
      writeJsonLines(path.join(tmp, "examples.jsonl"), examples);
      writeJsonAtomic(path.join(tmp, "results.json"), {
        format: `difflens-readouts-${command}`,
        runDir: plan.inputs.runDir,
        marker: plan.inputs.config.marker,
        markerId: plan.inputs.markerId,
        measuredAt: "t* − 1 (the position that predicts the marker)",
        batchSize: plan.batchSize,
        comparator: plan.inputs.config.comparator ? describeModelRef(plan.inputs.config.comparator) : null,
        skipped: plan.skipped,
        figures: written.map((f) => path.basename(f)),
        ...results,
      });
    },
    { force: Boolean(options.force), what: `follow-up ${command}`, alternatives: "or move the folder aside" },
  );
  return dir;
}
