/**
 * `ablate-mlp`: in the trained model, each layer's MLP output at t* − 1 is zeroed (mode "zero") or set to its mean
 * over every position of the persona's positives (mode "mean"); the drop in P(marker) at t* − 1 per layer, and the
 * peak layer (largest mean drop). An ablation at t* − 1 only changes position t* − 1, so each layer costs a one-token
 * step from the batch's cached prefix (emit-passes.ts); mode "mean" adds one pass for the means.
 */
import { leftPad, type Model, patchActivation, zeroAblateMlp } from "@difflens/runtime";
import { Tensor, toFloat32Array } from "@difflens/tensor";
import { type Batching, emitStepProbabilities, forEachBatch, type InterventionHooks } from "./emit-passes.ts";
import { type MeanSem, perLayerMeanSem, positiveArgmax } from "./layer-stats.ts";

export type AblationMode = "zero" | "mean";

const mlpOut = (L: number) => `blocks.${L}.hook_mlp_out`;

/** Each layer's MLP output averaged over every position 0 … t* − 1 of every sequence. → [layers][dModel] */
export async function meanMlpOutputs(
  model: Model,
  sequences: readonly (readonly number[])[],
  batching: Batching | number,
): Promise<Float32Array[]> {
  const { nLayers, dModel: d } = model.config;
  const names = Array.from({ length: nLayers }, (_, L) => mlpOut(L));
  const sums = names.map(() => new Float64Array(d));
  let count = 0;
  await forEachBatch(sequences.length, batching, async (rows) => {
    const lengths = rows.map((r) => sequences[r]!.length);
    const width = Math.max(...lengths);
    const { cache } = await model.runWithCache(leftPad(rows.map((r) => sequences[r]!)), { names, logits: "none" });
    names.forEach((name, L) => {
      const t = toFloat32Array(cache.get(name)); // [rows, width, dModel]
      const sum = sums[L]!;
      lengths.forEach((n, b) => {
        for (let s = width - n; s < width; s++) {
          const at = (b * width + s) * d;
          for (let i = 0; i < d; i++) sum[i]! += t[at + i]!;
        }
      });
    });
    count += lengths.reduce((a, b) => a + b, 0);
  });
  return sums.map((sum) => Float32Array.from(sum, (v) => v / count));
}

/** P(marker) at t* − 1, clean and with each layer's MLP output ablated there. → { clean [N], ablated [layers][N] } */
export async function ablatedProbabilities(
  trained: Model,
  sequences: readonly (readonly number[])[],
  markerId: number,
  mode: AblationMode,
  batching: Batching | number,
): Promise<{ clean: number[]; ablated: number[][] }> {
  const { nLayers, dModel: d } = trained.config;
  const means = mode === "mean" ? await meanMlpOutputs(trained, sequences, batching) : null;
  const hooks = Array.from(
    { length: nLayers },
    (_, L): InterventionHooks =>
      () =>
        means ? [patchActivation(mlpOut(L), new Tensor("f32", [1, 1, d], means[L]!))] : [zeroAblateMlp(L)],
  );
  const { clean, under } = await emitStepProbabilities(trained, sequences, markerId, hooks, batching);
  return { clean, ablated: under };
}

export interface AblatePersonaResult {
  readonly persona: string;
  readonly n: number;
  readonly mode: AblationMode;
  readonly cleanProbability: MeanSem;
  /** Mean ± SEM over examples of the drop P(clean) − P(ablated), per layer. */
  readonly drop: MeanSem[];
  /** The layer with the largest mean drop (null when no ablation lowers P(marker) on average). */
  readonly peak: number | null;
}

export function ablatePersonaResult(
  persona: string,
  mode: AblationMode,
  r: { clean: readonly number[]; ablated: readonly (readonly number[])[] },
): AblatePersonaResult {
  const drop = perLayerMeanSem(r.clean.map((p0, i) => r.ablated.map((layer) => p0 - layer[i]!)));
  return {
    persona,
    n: r.clean.length,
    mode,
    cleanProbability: perLayerMeanSem(r.clean.map((p) => [p]))[0]!,
    drop,
    peak: positiveArgmax(drop.map((m) => m.mean)),
  };
}
