/**
 * From per-head readouts to per-layer profiles: head means per stratum, marker − control deltas per example (C1–C3
 * within the same generation, C4 against the mean of the same question's negatives), and mean ± SEM per layer.
 */
import { mean, sem } from "@difflens/stats";
import { ReadoutsError } from "../errors.ts";
import type {
  Contrast,
  ContrastAnalysis,
  GroupProfiles,
  LayerProfile,
  LayerValue,
  Segmentation,
} from "./analysis-types.ts";
import { type ExampleReadout, REGION_GROUPS, type RegionGroup, STRATA, type Stratum } from "./records.ts";
import { layerSignBalance } from "./sign-balance.ts";

const GROUPS = REGION_GROUPS.length;
const SEGMENTATIONS: readonly Segmentation[] = ["A", "B"];

/** One stratum's head-mean fractions per segmentation: [layers, groups] (index layer · groups + group). */
export type HeadMeanRow = Readonly<Record<Segmentation, Float64Array>>;
/** Every stratum of one readout; null where the position does not exist. */
export type HeadMeans = Readonly<Record<Stratum, HeadMeanRow | null>>;

/** An INPUT_INVALID error whose message carries its facts (field, expected, got): stage 3 has no file to name. */
export function analysisInputError(summary: string, facts: { field: string; expected: string; got: string }) {
  return new ReadoutsError(
    "INPUT_INVALID",
    `attention-marker analysis: ${summary} — field: ${facts.field} — expected: ${facts.expected} — got: ${facts.got}`,
    facts,
  );
}

/** Heads per layer implied by a readout's arrays ([layers, heads, groups]); an error names the example otherwise. */
export function headCount(readout: ExampleReadout, layers: number): number {
  const length = readout.fractions.marker.A.length;
  const heads = length / (layers * GROUPS);
  if (!Number.isInteger(heads) || heads < 1) {
    throw analysisInputError("readout arrays do not match the layers", {
      field: `readouts ${readout.persona} seed ${readout.runSeed} trial ${readout.trial} (${readout.model}).fractions`,
      expected: `[${layers} layers, heads, ${GROUPS} groups]`,
      got: `${length} values`,
    });
  }
  return heads;
}

/** Mean over heads of every stratum's fractions. */
export function headMeans(readout: ExampleReadout, layers: number): HeadMeans {
  const heads = headCount(readout, layers);
  const out = {} as Record<Stratum, HeadMeanRow | null>;
  for (const stratum of STRATA) {
    if (readout.positions[stratum] === null) {
      out[stratum] = null;
      continue;
    }
    const row = {} as Record<Segmentation, Float64Array>;
    for (const seg of SEGMENTATIONS) {
      const src = readout.fractions[stratum][seg]; // [layers, heads, groups]
      const dst = new Float64Array(layers * GROUPS); // [layers, groups]
      for (let l = 0; l < layers; l++) {
        for (let h = 0; h < heads; h++) {
          for (let g = 0; g < GROUPS; g++) dst[l * GROUPS + g]! += src[(l * heads + h) * GROUPS + g]!;
        }
      }
      for (let i = 0; i < dst.length; i++) dst[i]! /= heads;
      row[seg] = dst;
    }
    out[stratum] = row;
  }
  return out;
}

function subtract(a: HeadMeanRow, b: HeadMeanRow): HeadMeanRow {
  return { A: a.A.map((v, i) => v - b.A[i]!), B: a.B.map((v, i) => v - b.B[i]!) };
}

function averageRows(rows: readonly HeadMeanRow[]): HeadMeanRow {
  const avg = (seg: Segmentation) => {
    const out = new Float64Array(rows[0]![seg].length);
    for (const r of rows) {
      for (let i = 0; i < out.length; i++) out[i]! += r[seg][i]!;
    }
    return out.map((v) => v / rows.length);
  };
  return { A: avg("A"), B: avg("B") };
}

/** `${runSeed}:${questionIndex}`: C4 pairs a positive with the negatives of its own seed and question. */
function questionKey(r: { runSeed: number; questionIndex: number }): string {
  return `${r.runSeed}:${r.questionIndex}`;
}

/**
 * Per-example marker − control rows for one contrast. C1–C3: the same generation's control position. C4: the mean,
 * over the negatives of the same (seed, question), of their end-of-answer fractions; null negatives = not applicable.
 */
export function contrastRows(
  contrast: Contrast,
  positives: readonly HeadMeans[],
  positiveMeta: readonly { runSeed: number; questionIndex: number }[],
  negatives: readonly { means: HeadMeans; runSeed: number; questionIndex: number }[] | null,
): { rows: HeadMeanRow[]; missing: number } {
  const rows: HeadMeanRow[] = [];
  let missing = 0;
  let byQuestion: Map<string, HeadMeanRow> | null = null;
  if (contrast === "c4") {
    const groups = new Map<string, HeadMeanRow[]>();
    for (const n of negatives ?? []) {
      const c4 = n.means.c4;
      if (c4 === null) continue;
      const key = questionKey(n);
      const group = groups.get(key);
      if (group === undefined) groups.set(key, [c4]);
      else group.push(c4);
    }
    byQuestion = new Map([...groups].map(([k, v]) => [k, averageRows(v)]));
  }
  positives.forEach((p, i) => {
    const control = byQuestion === null ? p[contrast] : (byQuestion.get(questionKey(positiveMeta[i]!)) ?? null);
    if (p.marker === null || control === null) missing++;
    else rows.push(subtract(p.marker, control));
  });
  return { rows, missing };
}

/** Mean ± SEM per layer of one group's values over the rows. */
export function layerProfile(
  rows: readonly HeadMeanRow[],
  seg: Segmentation,
  group: RegionGroup,
  layers: readonly number[],
): LayerProfile {
  const g = REGION_GROUPS.indexOf(group);
  const means: number[] = [];
  const sems: (number | null)[] = [];
  const positive: number[] = [];
  for (let l = 0; l < layers.length; l++) {
    const column = rows.map((r) => r[seg][l * GROUPS + g]!);
    means.push(mean(column));
    sems.push(column.length < 2 ? null : sem(column));
    positive.push(column.filter((v) => v > 0).length);
  }
  return {
    n: rows.length,
    mean: means,
    sem: sems,
    positive,
    signBalance: layerSignBalance(means),
    peak: argMax(means, layers),
  };
}

/** Profiles of every group under both segmentations; null when there are no rows. */
export function groupProfiles(rows: readonly HeadMeanRow[], layers: readonly number[]): GroupProfiles | null {
  if (rows.length === 0) return null;
  const bySeg = (seg: Segmentation) =>
    Object.fromEntries(REGION_GROUPS.map((g) => [g, layerProfile(rows, seg, g, layers)])) as Record<
      RegionGroup,
      LayerProfile
    >;
  return { A: bySeg("A"), B: bySeg("B") };
}

export function contrastAnalysis(rows: { rows: HeadMeanRow[]; missing: number }, layers: readonly number[]) {
  return {
    n: rows.rows.length,
    missing: rows.missing,
    profiles: groupProfiles(rows.rows, layers),
  } satisfies ContrastAnalysis;
}

/** The largest value and its layer label (first on ties). */
export function argMax(values: readonly number[], layers: readonly number[]): LayerValue {
  let best = 0;
  values.forEach((v, i) => {
    if (v > values[best]!) best = i;
  });
  return { layer: layers[best]!, value: values[best]! };
}

/**
 * [layers][heads]: mean over readouts of (marker − C1) on one group and segmentation, per head (readouts without a C1
 * position are left out); null when none has both.
 */
export function perHeadDelta(
  readouts: readonly ExampleReadout[],
  seg: Segmentation,
  group: RegionGroup,
  layers: number,
): number[][] | null {
  const used = readouts.filter((r) => r.positions.marker !== null && r.positions.c1 !== null);
  if (used.length === 0) return null;
  const heads = headCount(used[0]!, layers);
  const g = REGION_GROUPS.indexOf(group);
  const sums = Array.from({ length: layers }, () => new Array<number>(heads).fill(0));
  for (const r of used) {
    const m = r.fractions.marker[seg];
    const c = r.fractions.c1[seg];
    for (let l = 0; l < layers; l++) {
      for (let h = 0; h < heads; h++) {
        const i = (l * heads + h) * GROUPS + g;
        sums[l]![h]! += m[i]! - c[i]!;
      }
    }
  }
  return sums.map((row) => row.map((v) => v / used.length));
}
