/**
 * What the four follow-up commands share: the run folder's inputs, the models opened one at a time (each trained
 * model for its persona, then the comparator once for every persona — peak memory one model), and the output folder
 * `<runDir>/follow-ups/<command>/` with results.json, examples.jsonl and the figures, written atomically.
 */
import * as path from "node:path";
import {
  describeModelRef,
  loadModelRef,
  type ModelRef,
  type OutputFolderOptions,
  refuseExistingOutput,
  writeJsonLines,
  writeOutputFolder,
} from "@difflens/app-kit";
import { type Log, ProgressBar, writeJsonAtomic } from "@difflens/common";
import type { Model } from "@difflens/runtime";
import type { Batching } from "./emit-passes.ts";
import { type FollowUpInputs, type PersonaPositives, readFollowUpInputs } from "./follow-up-inputs.ts";

export interface FollowUpOptions {
  /** Sequences per forward pass (default: the run config's readout.batchSize). */
  readonly batchSize?: number;
  /** Replace an existing `follow-ups/<command>` folder. */
  readonly force?: boolean;
  /** Progress bars on stderr (the CLI's). */
  readonly progress?: boolean;
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
  readonly command: string;
  readonly inputs: FollowUpInputs;
  readonly personas: readonly PersonaPositives[];
  readonly skipped: readonly { readonly persona: string; readonly reason: string }[];
  readonly batchSize: number;
  readonly progress: boolean;
  readonly log: Log;
}

export function planFollowUp(command: string, runDir: string, options: FollowUpOptions): FollowUpPlan {
  const log = options.log ?? (() => {});
  const inputs = readFollowUpInputs(path.resolve(runDir));
  // refused before any compute (hours at 7B), and again when the folder is swapped in
  refuseExistingOutput(outputDir(inputs.runDir, command), outputOptions(command, options));
  const skipped = inputs.personas
    .filter((p) => p.examples.length === 0)
    .map((p) => ({ persona: p.persona, reason: "no positives (the marker was never emitted)" }));
  for (const s of skipped) log(`${command}: skipping ${s.persona}: ${s.reason}`);
  return {
    command,
    inputs,
    personas: inputs.personas.filter((p) => p.examples.length > 0),
    skipped,
    batchSize: options.batchSize ?? inputs.config.readout.batchSize,
    progress: Boolean(options.progress),
    log,
  };
}

/** Opens a model, runs `fn` on it and closes it (also when `fn` throws). */
async function withModel<T>(ref: ModelRef, fn: (model: Model) => Promise<T>): Promise<T> {
  const model = await loadModelRef(ref);
  try {
    return await fn(model); // awaited here, so the model closes only after its passes finish
  } finally {
    model.close();
  }
}

/** Calls `fn` with each model and persona: its batching, with a progress bar over `passes` × its positives. */
type PerModel<T> = (model: Model, persona: PersonaPositives, batching: Batching) => Promise<T>;

function batchingFor(plan: FollowUpPlan, label: string, total: number): Batching {
  if (!plan.progress) return { size: plan.batchSize };
  const bar = new ProgressBar({ label: `${plan.command} ${label}`, total, unit: "seq" });
  let done = 0;
  return {
    size: plan.batchSize,
    onBatch: (rows) => {
      done += rows;
      if (done >= total) bar.done(done);
      else bar.update(done);
    },
  };
}

/** Each persona's trained model on its own positives, one model at a time (`passes` per positive, for progress). */
export async function perTrainedModel<T>(plan: FollowUpPlan, fn: PerModel<T>, passes = 1): Promise<T[]> {
  const out: T[] = [];
  for (const p of plan.personas) {
    plan.log(`  trained ${p.persona} (${describeModelRef(p.model)}): ${p.examples.length} positives`);
    const batching = batchingFor(plan, `trained ${p.persona}`, passes * p.examples.length);
    out.push(await withModel(p.model, (m) => fn(m, p, batching)));
  }
  return out;
}

/** The comparator on every persona's positives (opened once), or null when the run has none. */
export async function perPersonaOnComparator<T>(plan: FollowUpPlan, fn: PerModel<T>): Promise<T[] | null> {
  const ref = plan.inputs.config.comparator;
  if (ref === null) {
    plan.log("  no comparator in the run's config: trained model only");
    return null;
  }
  plan.log(`  comparator (${describeModelRef(ref)})`);
  return withModel(ref, async (m) => {
    const out: T[] = [];
    for (const p of plan.personas)
      out.push(await fn(m, p, batchingFor(plan, `comparator ${p.persona}`, p.examples.length)));
    return out;
  });
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
  const dir = outputDir(plan.inputs.runDir, command);
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
    outputOptions(command, options),
  );
  return dir;
}

const outputDir = (runDir: string, command: string) => path.join(runDir, "follow-ups", command);

const outputOptions = (command: string, options: FollowUpOptions): OutputFolderOptions => ({
  force: Boolean(options.force),
  what: `follow-up ${command}`,
  alternatives: "or move the folder aside",
});
