/**
 * `dla`: direct logit attribution of the marker at t* − 1 — what each component writes to the marker's logit
 * through the final norm, with the norm's scale taken from the final residual stream (runtime
 * `directLogitAttribution`): the embedding, every attention head (its slice of hook_z through its columns of
 * o_proj) and every MLP (hook_mlp_out). The components sum to the residual stream, so their DLAs sum to the logit.
 */
import { directLogitAttribution, type Model } from "@difflens/runtime";
import { gemm, Tensor, toDevice, toHost } from "@difflens/tensor";
import { type Batching, emitPositionCache, forEachBatch } from "./emit-passes.ts";
import { type EmitExample, exampleId } from "./follow-up-inputs.ts";
import { type MeanSem, pairedDifference, perLayerMeanSem } from "./layer-stats.ts";

/** Per example ([examples][…]): the embedding's DLA, each head's ([layers][heads] flattened) and each MLP's. */
export interface DlaReadout {
  readonly embed: number[];
  /** [examples][layer · nHeads + head] */
  readonly heads: number[][];
  /** [examples][layers] */
  readonly mlp: number[][];
  /** The marker's logit at t* − 1 (= the sum of every component's DLA). */
  readonly logit: number[];
}

const zName = (L: number) => `blocks.${L}.attn.hook_z`;
const mlpName = (L: number) => `blocks.${L}.hook_mlp_out`;

export async function dlaReadout(
  model: Model,
  sequences: readonly (readonly number[])[],
  markerId: number,
  batching: Batching | number,
): Promise<DlaReadout> {
  const { nLayers, nHeads: H, dModel: d } = model.config;
  const final = `blocks.${nLayers - 1}.hook_resid_post`;
  const layers = Array.from({ length: nLayers }, (_, L) => L);
  const names = ["hook_embed", ...layers.flatMap((L) => [zName(L), mlpName(L)]), final];
  const cache = await emitPositionCache(model, sequences, names, batching);
  const componentsPerExample = 1 + nLayers * (H + 1); // the embedding, then per layer its heads and its MLP
  const out: DlaReadout = { embed: [], heads: [], mlp: [], logit: [] };
  // in chunks of examples: the components of one example are [componentsPerExample, dModel]
  const chunkSize = typeof batching === "number" ? batching : batching.size; // not model passes: no progress
  await forEachBatch(sequences.length, chunkSize, async (chunk) => {
    const n = chunk.length;
    const components = new Float32Array(n * componentsPerExample * d);
    const finals = new Float32Array(n * componentsPerExample * d); // each example's final residual, repeated
    const put = (i: number, row: number, values: Float32Array, from: number) =>
      components.set(values.subarray(from, from + d), (i * componentsPerExample + row) * d);
    const rowsOf = (name: string) => {
      const all = cache.get(name)!;
      const width = all.length / sequences.length;
      return Float32Array.from(chunk.flatMap((r) => Array.from(all.subarray(r * width, (r + 1) * width))));
    };
    const embed = rowsOf("hook_embed");
    const finalResid = rowsOf(final);
    for (let i = 0; i < n; i++) {
      put(i, 0, embed, i * d);
      for (let row = 0; row < componentsPerExample; row++) {
        finals.set(finalResid.subarray(i * d, (i + 1) * d), (i * componentsPerExample + row) * d);
      }
    }
    for (const L of layers) {
      const heads = await headOutputs(model, L, rowsOf(zName(L)), n); // [n, H, dModel]
      const mlp = rowsOf(mlpName(L));
      for (let i = 0; i < n; i++) {
        for (let h = 0; h < H; h++) put(i, 1 + L * (H + 1) + h, heads, (i * H + h) * d);
        put(i, 1 + L * (H + 1) + H, mlp, i * d);
      }
    }
    const shape = [n * componentsPerExample, d];
    const dla = directLogitAttribution(model, new Tensor("f32", shape, components), new Tensor("f32", shape, finals), [
      markerId,
    ]).data as Float32Array; // [n · componentsPerExample, 1]
    for (let i = 0; i < n; i++) {
      const row = Array.from(dla.subarray(i * componentsPerExample, (i + 1) * componentsPerExample));
      out.embed.push(row[0]!);
      out.heads.push(layers.flatMap((L) => row.slice(1 + L * (H + 1), 1 + L * (H + 1) + H)));
      out.mlp.push(layers.map((L) => row[1 + L * (H + 1) + H]!));
      out.logit.push(row.reduce((a, b) => a + b, 0));
    }
  });
  return out;
}

/** Each head's write to the residual stream: its slice of z [n, nHeads·dHead] through o_proj alone. → [n, H, d] */
async function headOutputs(model: Model, layer: number, z: Float32Array, n: number): Promise<Float32Array> {
  const { nHeads: H, dHead: hd } = model.config;
  const masked = new Float32Array(n * H * H * hd); // [n · H, H · dHead]: row (i, h) keeps only head h's slice
  for (let i = 0; i < n; i++) {
    for (let h = 0; h < H; h++) {
      const from = i * H * hd + h * hd;
      masked.set(z.subarray(from, from + hd), (i * H + h) * H * hd + h * hd);
    }
  }
  const oProj = model.weights.layers[layer]!.oProj; // [dModel, H · dHead], on the model's device
  const out = gemm(toDevice(new Tensor("f32", [n * H, H * hd], masked)), oProj, { transB: true });
  return (await toHost(out)).data as Float32Array;
}

/** A component's label: "embed", "L3.H5" or "L3.MLP". */
export function componentLabels(nLayers: number, nHeads: number): string[] {
  const labels = ["embed"];
  for (let L = 0; L < nLayers; L++) {
    for (let h = 0; h < nHeads; h++) labels.push(`L${L}.H${h}`);
    labels.push(`L${L}.MLP`);
  }
  return labels;
}

/** Per example, every component in label order (embed, then per layer its heads and its MLP). */
export function componentRows(r: DlaReadout, nLayers: number, nHeads: number): number[][] {
  return r.embed.map((e, i) => {
    const row = [e];
    for (let L = 0; L < nLayers; L++) row.push(...r.heads[i]!.slice(L * nHeads, (L + 1) * nHeads), r.mlp[i]![L]!);
    return row;
  });
}

export interface DlaSummary {
  /** Per component (componentLabels order). */
  readonly components: MeanSem[];
  /** Per layer: its heads together, and its MLP. */
  readonly attentionPerLayer: MeanSem[];
  readonly mlpPerLayer: MeanSem[];
  readonly logit: MeanSem;
}

export interface DlaPersonaResult {
  readonly persona: string;
  readonly n: number;
  readonly labels: readonly string[];
  readonly trained: DlaSummary;
  readonly comparator: DlaSummary | null;
  /** Trained − comparator, per component (paired by example). */
  readonly difference: MeanSem[] | null;
  /** The largest |mean| components: of the trained model, and of the difference when there is a comparator. */
  readonly topTrained: readonly TopComponent[];
  readonly topDifference: readonly TopComponent[] | null;
}

export interface TopComponent {
  readonly component: string;
  readonly mean: number;
  readonly sem: number | null;
}

export function dlaPersonaResult(
  persona: string,
  model: { nLayers: number; nHeads: number },
  trained: DlaReadout,
  comparator: DlaReadout | null,
  top = 10,
): DlaPersonaResult {
  const labels = componentLabels(model.nLayers, model.nHeads);
  const rows = (r: DlaReadout) => componentRows(r, model.nLayers, model.nHeads);
  const summary = (r: DlaReadout): DlaSummary => {
    const perLayerAttention = r.heads.map((h) =>
      Array.from({ length: model.nLayers }, (_, L) =>
        h.slice(L * model.nHeads, (L + 1) * model.nHeads).reduce((a, b) => a + b, 0),
      ),
    );
    return {
      components: perLayerMeanSem(rows(r)),
      attentionPerLayer: perLayerMeanSem(perLayerAttention),
      mlpPerLayer: perLayerMeanSem(r.mlp),
      logit: perLayerMeanSem(r.logit.map((v) => [v]))[0]!,
    };
  };
  const difference = comparator ? perLayerMeanSem(pairedDifference(rows(trained), rows(comparator))) : null;
  const trainedSummary = summary(trained);
  return {
    persona,
    n: trained.embed.length,
    labels,
    trained: trainedSummary,
    comparator: comparator ? summary(comparator) : null,
    difference,
    topTrained: topComponents(labels, trainedSummary.components, top),
    topDifference: difference ? topComponents(labels, difference, top) : null,
  };
}

function topComponents(labels: readonly string[], values: readonly MeanSem[], top: number): TopComponent[] {
  return values
    .map((v, i) => ({ component: labels[i]!, mean: v.mean, sem: v.sem }))
    .sort((a, b) => Math.abs(b.mean) - Math.abs(a.mean))
    .slice(0, top);
}

/** Per-example JSONL rows: one per (example, model), every component in label order. */
export function dlaExampleRows(
  examples: readonly EmitExample[],
  model: "trained" | "comparator",
  r: DlaReadout,
  shape: { nLayers: number; nHeads: number },
): unknown[] {
  const rows = componentRows(r, shape.nLayers, shape.nHeads);
  return examples.map((e, i) => ({
    ...exampleId(e),
    model,
    logit: r.logit[i],
    components: rows[i],
  }));
}
