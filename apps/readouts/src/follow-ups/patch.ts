/**
 * `patch`: residual-stream patching from the trained model into the comparator. For each layer L the comparator
 * runs on a positive's tokens with blocks.L.hook_resid_post at t* − 1 (or, with positions "all", at every position
 * ≤ t* − 1) replaced by the trained model's value there; ΔP = P(marker at t* − 1) patched − unpatched. The locus is
 * the first layer whose mean ΔP reaches half of the largest.
 *
 * Batching: one trained pass per batch caches every layer's resid_post; then at t* − 1 the comparator makes one
 * prefix pass per batch and 1 + nLayers one-token steps (emit-passes.ts), while positions "all" needs 1 + nLayers
 * full comparator passes per batch. Positions "all" parks the trained residuals on disk (spilled-tensors.ts) so the
 * run holds one batch's layer at a time, not every layer of every positive.
 */
import { leftPad, logitLens, type Model, patchActivation } from "@difflens/runtime";
import { Tensor } from "@difflens/tensor";
import { ReadoutsError } from "../errors.ts";
import {
  type Batching,
  emitPositionCache,
  emitStepProbabilities,
  forEachBatch,
  fullPassProbabilities,
  type InterventionHooks,
  markerProbabilities,
} from "./emit-passes.ts";
import { halfMaxLocus, type MeanSem, perLayerMeanSem } from "./layer-stats.ts";
import { SpilledTensors } from "./spilled-tensors.ts";

export type PatchPositions = "emit" | "all";

/** The trained model's residual streams the comparator is patched with. */
export interface PatchSource {
  readonly positions: PatchPositions;
  /** The trained model's residual shape: the comparator must match it. */
  readonly nLayers: number;
  readonly dModel: number;
  /** P(marker) at t* − 1 under the trained model. [examples] */
  readonly trainedProbability: number[];
  /** Hooks of layer L's patch for the rows of a batch. */
  readonly hooks: readonly InterventionHooks[];
  /** Frees what the source keeps (the scratch file of positions "all"). */
  close(): void;
}

const residPost = (L: number) => `blocks.${L}.hook_resid_post`;

/**
 * One trained pass per batch: every layer's resid_post at t* − 1 (positions "emit", [examples, dModel] per layer) or
 * at every position of the left-padded batch (positions "all"; the comparator's batches use the same layout).
 */
export async function patchSource(
  trained: Model,
  sequences: readonly (readonly number[])[],
  markerId: number,
  positions: PatchPositions,
  batching: Batching | number,
): Promise<PatchSource> {
  const { nLayers, dModel: d } = trained.config;
  const names = Array.from({ length: nLayers }, (_, L) => residPost(L));
  if (positions === "emit") {
    const cache = await emitPositionCache(trained, sequences, names, batching);
    const final = cache.get(residPost(nLayers - 1))!;
    const trainedProbability = markerProbabilities(
      await logitLens(trained, new Tensor("f32", [sequences.length, 1, d], final)),
      markerId,
    );
    const hooks = names.map((name): InterventionHooks => {
      const all = cache.get(name)!;
      return (rows) => {
        const source = new Float32Array(rows.length * d); // [rows, 1, dModel]
        for (const [i, r] of rows.entries()) source.set(all.subarray(r * d, (r + 1) * d), i * d);
        return [patchActivation(name, new Tensor("f32", [rows.length, 1, d], source))];
      };
    });
    return { positions, nLayers, dModel: d, trainedProbability, hooks, close: () => {} };
  }
  const spilled = new SpilledTensors(); // key `${first row}:${name}` → [rows, width, dModel]
  const trainedProbability: number[] = [];
  await forEachBatch(sequences.length, batching, async (rows) => {
    const { cache, logits } = await trained.runWithCache(leftPad(rows.map((r) => sequences[r]!)), {
      names,
      logits: "last",
    });
    for (const name of names) spilled.put(`${rows[0]}:${name}`, cache.get(name));
    trainedProbability.push(...markerProbabilities(logits!, markerId));
  });
  const hooks = names.map(
    (name): InterventionHooks =>
      (rows) => [patchActivation(name, spilled.get(`${rows[0]}:${name}`))],
  );
  return { positions, nLayers, dModel: d, trainedProbability, hooks, close: () => spilled.close() };
}

/** P(marker) of the comparator unpatched and patched at each layer. → { clean [N], patched [layers][N] } */
export async function patchedProbabilities(
  comparator: Model,
  sequences: readonly (readonly number[])[],
  markerId: number,
  source: PatchSource,
  batching: Batching | number,
): Promise<{ clean: number[]; patched: number[][] }> {
  const { nLayers, dModel } = comparator.config;
  if (nLayers !== source.nLayers || dModel !== source.dModel) {
    const message = `patch: the comparator has ${nLayers} layers of width ${dModel}, the trained model ${source.nLayers} of width ${source.dModel}`;
    throw new ReadoutsError("INPUT_INVALID", message, {
      field: "comparator",
      expected: `${source.nLayers} layers, dModel ${source.dModel}`,
      got: `${nLayers} layers, dModel ${dModel}`,
    });
  }
  const run = source.positions === "emit" ? emitStepProbabilities : fullPassProbabilities;
  const { clean, under } = await run(comparator, sequences, markerId, source.hooks, batching);
  return { clean, patched: under };
}

export interface PatchPersonaResult {
  readonly persona: string;
  readonly n: number;
  readonly positions: PatchPositions;
  readonly trainedProbability: MeanSem;
  readonly comparatorProbability: MeanSem;
  /** Mean ± SEM over examples of ΔP = patched − unpatched comparator, per layer. */
  readonly deltaP: MeanSem[];
  /** First layer whose mean ΔP reaches half of the largest (null when no layer raises P). */
  readonly locus: number | null;
}

export function patchPersonaResult(
  persona: string,
  positions: PatchPositions,
  trainedProbability: readonly number[],
  comparator: { clean: readonly number[]; patched: readonly (readonly number[])[] },
): PatchPersonaResult {
  const deltas = comparator.clean.map((p0, i) => comparator.patched.map((layer) => layer[i]! - p0)); // [N][L]
  const deltaP = perLayerMeanSem(deltas);
  return {
    persona,
    n: deltas.length,
    positions,
    trainedProbability: perLayerMeanSem(trainedProbability.map((p) => [p]))[0]!,
    comparatorProbability: perLayerMeanSem(comparator.clean.map((p) => [p]))[0]!,
    deltaP,
    locus: halfMaxLocus(deltaP.map((m) => m.mean)),
  };
}
