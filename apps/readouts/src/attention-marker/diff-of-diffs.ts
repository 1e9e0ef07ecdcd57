/**
 * The force-feed contrast (seed 001): the comparator reads the trained model's exact positives, so per example and
 * layer dd = (trained_marker − trained_C1) − (comparator_marker − comparator_C1) on system content isolates what the
 * weights changed. Paired over examples: the SEM of dd is over the same sequences.
 */
import { mean, sem } from "@difflens/stats";
import { ReadoutsError } from "../errors.ts";
import type { DiffOfDiffsAnalysis, ForceFeedAnalysis, LayerValue, Segmentation } from "./analysis-types.ts";
import type { ExampleReadout } from "./records.ts";
import { REGION_GROUPS } from "./records.ts";
import { layerSignBalance, SIGN_ZERO_TOLERANCE } from "./sign-balance.ts";
import { argMax, argMin, type HeadMeans, headMeans, perHeadDelta } from "./strata-contrasts.ts";

/** |dd| above this counts as "one model above the other" (the seed's 8/28 vs 2/28 layers). */
export const DD_MARGIN = 0.005;
const GROUPS = REGION_GROUPS.length;
const SYSTEM = REGION_GROUPS.indexOf("system");

export interface ForceFeedPair {
  readonly trained: ExampleReadout;
  readonly comparator: ExampleReadout;
}

/** Pairs each trained positive with the comparator's readout of the same sequence (same seed and trial). */
export function pairForceFeed(
  trained: readonly ExampleReadout[],
  comparator: readonly ExampleReadout[],
): { pairs: ForceFeedPair[]; unpaired: number } {
  const byKey = new Map(comparator.map((c) => [`${c.runSeed}:${c.trial}`, c]));
  const pairs: ForceFeedPair[] = [];
  for (const t of trained) {
    const c = byKey.get(`${t.runSeed}:${t.trial}`);
    if (c === undefined) continue;
    if (c.positions.marker !== t.positions.marker || c.positions.c1 !== t.positions.c1) {
      throw new ReadoutsError("INPUT_INVALID", "force-feed readout at other positions than the trained one", {
        field: `readouts ${t.persona} seed ${t.runSeed} trial ${t.trial}: comparator.positions`,
        expected: `marker ${t.positions.marker}, c1 ${t.positions.c1} (the trained readout's)`,
        got: `marker ${c.positions.marker}, c1 ${c.positions.c1}`,
      });
    }
    pairs.push({ trained: t, comparator: c });
  }
  return { pairs, unpaired: trained.length - pairs.length };
}

/** Per layer: (marker − C1) on system, head-mean, one example under one model. */
function systemDelta(means: HeadMeans, seg: Segmentation, layers: number): number[] {
  const m = means.marker![seg];
  const c = means.c1![seg];
  return Array.from({ length: layers }, (_, l) => m[l * GROUPS + SYSTEM]! - c[l * GROUPS + SYSTEM]!);
}

function columnMeans(rows: readonly number[][], layers: number): number[] {
  return Array.from({ length: layers }, (_, l) => mean(rows.map((r) => r[l]!)));
}

function diffOfDiffs(
  seg: Segmentation,
  trainedRows: readonly number[][],
  comparatorRows: readonly number[][],
  used: readonly ForceFeedPair[],
  layers: readonly number[],
): DiffOfDiffsAnalysis {
  const L = layers.length;
  const dd = trainedRows.map((t, i) => t.map((v, l) => v - comparatorRows[i]![l]!));
  const means = columnMeans(dd, L);
  const sems = Array.from({ length: L }, (_, l) => (dd.length < 2 ? null : sem(dd.map((r) => r[l]!))));
  const trainedHeads = perHeadDelta(
    used.map((p) => p.trained),
    seg,
    "system",
    L,
  )!;
  const comparatorHeads = perHeadDelta(
    used.map((p) => p.comparator),
    seg,
    "system",
    L,
  )!;
  return {
    segmentation: seg,
    region: "system",
    n: dd.length,
    perLayer: {
      mean: means,
      sem: sems,
      semExcludesZero: means.map((m, l) => sems[l] !== null && Math.abs(m) > sems[l]!),
    },
    mean: means.reduce((s, v) => s + v, 0) / L,
    max: argMax(means, layers),
    min: argMin(means, layers),
    layersPositive: means.filter((v) => v > SIGN_ZERO_TOLERANCE).length,
    comparatorAboveTrained: means.filter((v) => v < -DD_MARGIN).length,
    trainedAboveComparator: means.filter((v) => v > DD_MARGIN).length,
    signBalance: layerSignBalance(means),
    perHead: trainedHeads.map((row, l) => row.map((v, h) => v - comparatorHeads[l]![h]!)),
  };
}

/** The force-feed analysis of one persona (one seed or pooled); null when no positive has a paired C1 readout. */
export function forceFeedAnalysis(
  trained: readonly ExampleReadout[],
  comparator: readonly ExampleReadout[],
  layers: readonly number[],
): ForceFeedAnalysis | null {
  const L = layers.length;
  const { pairs, unpaired } = pairForceFeed(trained, comparator);
  const used = pairs.filter((p) => p.trained.positions.c1 !== null && p.trained.positions.marker !== null);
  if (used.length === 0) return null;
  const trainedMeans = used.map((p) => headMeans(p.trained, L));
  const comparatorMeans = used.map((p) => headMeans(p.comparator, L));
  const bySeg = (seg: Segmentation) => {
    const t = trainedMeans.map((m) => systemDelta(m, seg, L));
    const c = comparatorMeans.map((m) => systemDelta(m, seg, L));
    return { t, c, dd: diffOfDiffs(seg, t, c, used, layers) };
  };
  const a = bySeg("A");
  const b = bySeg("B");
  const trainedPeak: LayerValue = argMax(columnMeans(b.t, L), layers);
  const comparatorPeak: LayerValue = argMax(columnMeans(b.c, L), layers);
  return {
    paired: pairs.length,
    unpaired,
    diffOfDiffs: { A: a.dd, B: b.dd },
    trainedPeak,
    comparatorPeak,
    peakShift: comparatorPeak.layer - trainedPeak.layer,
  };
}
