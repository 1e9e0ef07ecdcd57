/**
 * `logit-lens`: the marker's logit, probability and rank at t* − 1 read from the residual stream after each block
 * (and the embedding) through the final norm and the unembedding (runtime `logitLens`), for the trained model and
 * for the comparator on the same tokens; mean ± SEM over each persona's positives; the layer where the marker logit
 * rises most over the layer before it.
 */
import { logitLens, type Model, tokenStandings } from "@difflens/runtime";
import { Tensor, toFloat32Array } from "@difflens/tensor";
import { type Batching, emitPositionCache, forEachBatch } from "./emit-passes.ts";
import { type EmitExample, exampleId } from "./follow-up-inputs.ts";
import { argmax, type MeanSem, pairedDifference, perLayerMeanSem } from "./layer-stats.ts";

/** Per example, per lens point ([examples][1 + nLayers]: index 0 = the embedding, 1 + L = block L's resid_post). */
export interface LensReadout {
  readonly logit: number[][];
  readonly probability: number[][];
  readonly rank: number[][];
}

/** The residual-stream hooks read, in lens order: the embedding, then each block's output. */
export function lensHooks(nLayers: number): string[] {
  return ["hook_embed", ...Array.from({ length: nLayers }, (_, L) => `blocks.${L}.hook_resid_post`)];
}

/** The lens readout of every sequence (tokens 0 … t* − 1) at its last position. */
export async function logitLensReadout(
  model: Model,
  sequences: readonly (readonly number[])[],
  markerId: number,
  batching: Batching | number,
): Promise<LensReadout> {
  const { dModel: d, vocabSize: V } = model.config;
  const names = lensHooks(model.config.nLayers);
  const cache = await emitPositionCache(model, sequences, names, batching);
  const out: LensReadout = {
    logit: sequences.map(() => []),
    probability: sequences.map(() => []),
    rank: sequences.map(() => []),
  };
  // every lens point of a chunk of examples through one unembedding GEMM (the vocab matrix read once per chunk)
  const chunkSize = typeof batching === "number" ? batching : batching.size;
  await forEachBatch(sequences.length, chunkSize, async (chunk) => {
    const stacked = new Float32Array(names.length * chunk.length * d); // [points, chunk, dModel]
    names.forEach((name, point) => {
      const all = cache.get(name)!;
      chunk.forEach((r, i) => {
        stacked.set(all.subarray(r * d, (r + 1) * d), (point * chunk.length + i) * d);
      });
    });
    const logits = await logitLens(model, new Tensor("f32", [names.length * chunk.length, d], stacked)); // [rows, vocab]
    const values = toFloat32Array(logits);
    tokenStandings(logits, [markerId]).forEach(([standing], row) => {
      const example = chunk[row % chunk.length]!;
      out.logit[example]!.push(values[row * V + markerId]!);
      out.probability[example]!.push(standing!.probability);
      out.rank[example]!.push(standing!.rank);
    });
  });
  return out;
}

export interface LensSummary {
  readonly logit: MeanSem[];
  readonly probability: MeanSem[];
  readonly medianRank: number[];
  /** The block L whose output raises the mean marker logit most over its input (block L − 1's, or the embedding). */
  readonly riseLayer: number | null;
  /** That largest rise. */
  readonly rise: number | null;
}

export interface LensPersonaResult {
  readonly persona: string;
  readonly n: number;
  readonly trained: LensSummary;
  readonly comparator: LensSummary | null;
  /** Trained − comparator marker logit per example, summarised; its rise layer says where training adds it. */
  readonly difference: { readonly logit: MeanSem[]; readonly riseLayer: number | null } | null;
}

export function summarizeLens(r: LensReadout): LensSummary {
  const logit = perLayerMeanSem(r.logit);
  const { layer, rise } = largestRise(logit.map((m) => m.mean));
  return {
    logit,
    probability: perLayerMeanSem(r.probability),
    medianRank: r.rank[0]!.map((_, l) => median(r.rank.map((row) => row[l]!))),
    riseLayer: layer,
    rise,
  };
}

export function lensPersonaResult(
  persona: string,
  trained: LensReadout,
  comparator: LensReadout | null,
): LensPersonaResult {
  const difference = comparator ? perLayerMeanSem(pairedDifference(trained.logit, comparator.logit)) : null;
  return {
    persona,
    n: trained.logit.length,
    trained: summarizeLens(trained),
    comparator: comparator ? summarizeLens(comparator) : null,
    difference: difference ? { logit: difference, riseLayer: largestRise(difference.map((m) => m.mean)).layer } : null,
  };
}

/** Over lens points [embed, block 0, …]: the block whose output rises most over the point before it. */
export function largestRise(lens: readonly number[]): { layer: number | null; rise: number | null } {
  const rises = lens.slice(1).map((v, L) => v - lens[L]!);
  const layer = argmax(rises);
  return { layer, rise: layer === null ? null : rises[layer]! };
}

/** Per-example JSONL rows: one per (example, model). */
export function lensExampleRows(
  examples: readonly EmitExample[],
  model: "trained" | "comparator",
  r: LensReadout,
): unknown[] {
  return examples.map((e, i) => ({
    ...exampleId(e),
    model,
    logit: r.logit[i],
    probability: r.probability[i],
    rank: r.rank[i],
  }));
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
