/**
 * The four follow-ups over an attention-marker run folder: `runLogitLens`, `runDla`, `runPatch`, `runAblateMlp`.
 * Each reads the run's positives, measures at t* − 1, writes `<runDir>/follow-ups/<command>/` and returns a one-line
 * summary (the layer each one points at). `forwardPasses` in results.json counts the batched passes it made.
 */

import type { Model } from "@difflens/runtime";
import { ReadoutsError } from "../errors.ts";
import {
  type AblatePersonaResult,
  type AblationMode,
  ablatedProbabilities,
  ablatePersonaResult,
} from "./ablate-mlp.ts";
import { type DlaPersonaResult, dlaExampleRows, dlaPersonaResult, dlaReadout } from "./dla.ts";
import type { Batching } from "./emit-passes.ts";
import { writeAblateFigure, writeDlaFigures, writeLensFigures, writePatchFigure } from "./follow-up-figures.ts";
import { exampleId, type PersonaPositives } from "./follow-up-inputs.ts";
import { type LensPersonaResult, lensExampleRows, lensPersonaResult, logitLensReadout } from "./logit-lens.ts";
import {
  type PatchPersonaResult,
  type PatchPositions,
  patchedProbabilities,
  patchPersonaResult,
  patchSource,
} from "./patch.ts";
import {
  type FollowUpOptions,
  type FollowUpOutcome,
  type FollowUpPlan,
  perPersonaOnComparator,
  perTrainedModel,
  planFollowUp,
  sequencesOf,
  writeFollowUp,
} from "./run-follow-up.ts";

/**
 * Batched passes per persona: full passes over 0 … t* − 1, prefix passes over 0 … t* − 2, one-token steps (one
 * row per positive each); `tokens` = Σ t* over its positives, the tokens one model pass over them reads.
 */
interface PassCount {
  readonly persona: string;
  readonly tokens: number;
  readonly full: number;
  readonly prefix: number;
  readonly oneTokenSteps: number;
}

const batches = (p: PersonaPositives, plan: FollowUpPlan) => Math.ceil(p.examples.length / plan.batchSize);
const tokens = (p: PersonaPositives) => p.examples.reduce((s, e) => s + e.tokens.length, 0);
const layer = (v: number | null) => (v === null ? "none" : `L${v}`);

export async function runLogitLens(
  runDir: string,
  options: FollowUpOptions = {},
): Promise<FollowUpOutcome<{ personas: LensPersonaResult[] }>> {
  const plan = planFollowUp("logit-lens", runDir, options);
  const { markerId } = plan.inputs;
  const read = (m: Model, p: PersonaPositives, batching: Batching) =>
    logitLensReadout(m, sequencesOf(p), markerId, batching);
  const trained = await perTrainedModel(plan, read);
  const comparator = await perPersonaOnComparator(plan, read);
  const personas = plan.personas.map((p, i) => lensPersonaResult(p.persona, trained[i]!, comparator?.[i] ?? null));
  const examples = plan.personas.flatMap((p, i) => [
    ...lensExampleRows(p.examples, "trained", trained[i]!),
    ...(comparator ? lensExampleRows(p.examples, "comparator", comparator[i]!) : []),
  ]);
  const passes = plan.personas.map((p) => ({
    persona: p.persona,
    tokens: tokens(p),
    full: batches(p, plan) * (comparator ? 2 : 1),
    prefix: 0,
    oneTokenSteps: 0,
  }));
  const results = {
    lensPoints: "index 0 = the embedding, 1 + L = block L's resid_post",
    forwardPasses: passes,
    personas,
  };
  const dir = await writeFollowUp("logit-lens", plan, results, examples, (d) => writeLensFigures(d, personas), options);
  const summary = `logit-lens: marker logit rises most at ${personas
    .map(
      (r) =>
        `${r.persona} ${layer(r.trained.riseLayer)}${r.difference ? ` (trained − comparator ${layer(r.difference.riseLayer)})` : ""}`,
    )
    .join(", ")}`;
  return { dir, results, summary };
}

export async function runDla(
  runDir: string,
  options: FollowUpOptions = {},
): Promise<FollowUpOutcome<{ personas: DlaPersonaResult[] }>> {
  const plan = planFollowUp("dla", runDir, options);
  const { markerId } = plan.inputs;
  let shape = { nLayers: 0, nHeads: 0 };
  const read = (m: Model, p: PersonaPositives, batching: Batching) => {
    shape = { nLayers: m.config.nLayers, nHeads: m.config.nHeads };
    return dlaReadout(m, sequencesOf(p), markerId, batching);
  };
  const trained = await perTrainedModel(plan, read);
  const comparator = await perPersonaOnComparator(plan, read);
  const personas = plan.personas.map((p, i) =>
    dlaPersonaResult(p.persona, shape, trained[i]!, comparator?.[i] ?? null),
  );
  const examples = plan.personas.flatMap((p, i) => [
    ...dlaExampleRows(p.examples, "trained", trained[i]!, shape),
    ...(comparator ? dlaExampleRows(p.examples, "comparator", comparator[i]!, shape) : []),
  ]);
  const passes = plan.personas.map((p) => ({
    persona: p.persona,
    tokens: tokens(p),
    full: batches(p, plan) * (comparator ? 2 : 1),
    prefix: 0,
    oneTokenSteps: 0,
  }));
  const results = { forwardPasses: passes, personas };
  const dir = await writeFollowUp("dla", plan, results, examples, (d) => writeDlaFigures(d, personas), options);
  const summary = `dla: top component ${personas
    .map((r) => {
      const top = (r.topDifference ?? r.topTrained)[0];
      return `${r.persona} ${top ? `${top.component} (${top.mean.toFixed(3)})` : "—"}`;
    })
    .join(", ")}${comparator ? " (trained − comparator)" : " (trained)"}`;
  return { dir, results, summary };
}

export async function runPatch(
  runDir: string,
  options: FollowUpOptions & { readonly positions?: PatchPositions } = {},
): Promise<FollowUpOutcome<{ personas: PatchPersonaResult[] }>> {
  const plan = planFollowUp("patch", runDir, options);
  if (plan.inputs.config.comparator === null) {
    throw new ReadoutsError("INPUT_INVALID", `${plan.inputs.runDir}: the run has no comparator to patch into`, {
      field: "comparator",
      expected: "a comparator model in the run's config.json",
    });
  }
  const positions = options.positions ?? "emit";
  const { markerId } = plan.inputs;
  // the trained sources of every persona first (one trained model at a time), then the comparator once
  const sources = await perTrainedModel(plan, (m, p, batching) =>
    patchSource(m, sequencesOf(p), markerId, positions, batching),
  );
  plan.log(`  comparator: ${positions === "emit" ? "one-token steps from a cached prefix" : "full passes"}`);
  const patched = (await perPersonaOnComparator(plan, (m, p, batching) =>
    patchedProbabilities(m, sequencesOf(p), markerId, sources[plan.personas.indexOf(p)]!, batching),
  ).finally(() => {
    for (const source of sources) source.close();
  }))!;
  const personas = plan.personas.map((p, i) =>
    patchPersonaResult(p.persona, positions, sources[i]!.trainedProbability, patched[i]!),
  );
  const examples = plan.personas.flatMap((p, i) =>
    p.examples.map((e, k) => ({
      ...exampleId(e),
      trainedProbability: sources[i]!.trainedProbability[k],
      comparatorProbability: patched[i]!.clean[k],
      patchedProbability: patched[i]!.patched.map((layer) => layer[k]),
    })),
  );
  const passes: PassCount[] = plan.personas.map((p, i) => {
    const b = batches(p, plan);
    const layers = sources[i]!.hooks.length;
    return positions === "emit"
      ? { persona: p.persona, tokens: tokens(p), full: b, prefix: b, oneTokenSteps: b * (1 + layers) }
      : { persona: p.persona, tokens: tokens(p), full: b * (2 + layers), prefix: 0, oneTokenSteps: 0 };
  });
  const results = { positions, forwardPasses: passes, personas };
  const dir = await writeFollowUp("patch", plan, results, examples, (d) => writePatchFigure(d, personas), options);
  const summary = `patch (${positions === "emit" ? "t* − 1" : "all positions ≤ t* − 1"}): locus ${personas
    .map((r) => `${r.persona} ${layer(r.locus)} (max ΔP ${Math.max(...r.deltaP.map((d) => d.mean)).toFixed(3)})`)
    .join(", ")}`;
  return { dir, results, summary };
}

export async function runAblateMlp(
  runDir: string,
  options: FollowUpOptions & { readonly mode?: AblationMode } = {},
): Promise<FollowUpOutcome<{ personas: AblatePersonaResult[] }>> {
  const plan = planFollowUp("ablate-mlp", runDir, options);
  const mode = options.mode ?? "zero";
  const { markerId } = plan.inputs;
  const runs = await perTrainedModel(
    plan,
    (m, p, batching) => ablatedProbabilities(m, sequencesOf(p), markerId, mode, batching),
    mode === "mean" ? 2 : 1,
  );
  const personas = plan.personas.map((p, i) => ablatePersonaResult(p.persona, mode, runs[i]!));
  const examples = plan.personas.flatMap((p, i) =>
    p.examples.map((e, k) => ({
      ...exampleId(e),
      cleanProbability: runs[i]!.clean[k],
      ablatedProbability: runs[i]!.ablated.map((layer) => layer[k]),
    })),
  );
  const passes: PassCount[] = plan.personas.map((p, i) => {
    const b = batches(p, plan);
    return {
      persona: p.persona,
      tokens: tokens(p),
      full: mode === "mean" ? b : 0,
      prefix: b,
      oneTokenSteps: b * (1 + runs[i]!.ablated.length),
    };
  });
  const results = { mode, forwardPasses: passes, personas };
  const dir = await writeFollowUp(
    "ablate-mlp",
    plan,
    results,
    examples,
    (d) => writeAblateFigure(d, personas),
    options,
  );
  const summary = `ablate-mlp (${mode}): peak ${personas
    .map((r) => `${r.persona} ${layer(r.peak)} (drop ${r.peak === null ? "—" : r.drop[r.peak]!.mean.toFixed(3)})`)
    .join(", ")}`;
  return { dir, results, summary };
}
