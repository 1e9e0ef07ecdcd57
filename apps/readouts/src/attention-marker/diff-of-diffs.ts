/**
 * The force-feed contrast (seed 001): the comparator reads the trained model's exact positives, so per example and
 * layer dd = (trained_marker − trained_C1) − (comparator_marker − comparator_C1) on system content isolates what the
 * weights changed. Paired over examples: the SEM of dd is over the same sequences.
 */
import { diffOfDiffs, type Matrix } from "@difflens/stats";
import type { DiffOfDiffsAnalysis, ForceFeedAnalysis, LayerValue, Segmentation } from "./analysis-types.ts";
import type { ExampleReadout } from "./records.ts";
import { REGION_GROUPS } from "./records.ts";
import { SIGN_ZERO_TOLERANCE, signBalanceJson } from "./sign-balance.ts";
import { analysisInputError, argMax, type HeadMeans, headMeans, perHeadDelta } from "./strata-contrasts.ts";

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
      throw analysisInputError("force-feed readout at other positions than the trained one", {
        field: `readouts ${t.persona} seed ${t.runSeed} trial ${t.trial}: comparator.positions`,
        expected: `marker ${t.positions.marker}, c1 ${t.positions.c1} (the trained readout's)`,
        got: `marker ${c.positions.marker}, c1 ${c.positions.c1}`,
      });
    }
    pairs.push({ trained: t, comparator: c });
  }
  return { pairs, unpaired: trained.length - pairs.length };
}

/** [examples, layers]: one stratum's head-mean system fraction (rows of the stats matrices). */
function systemMatrix(
  means: readonly HeadMeans[],
  stratum: "marker" | "c1",
  seg: Segmentation,
  layers: number,
): Matrix {
  const data = new Float64Array(means.length * layers);
  means.forEach((m, i) => {
    for (let l = 0; l < layers; l++) data[i * layers + l] = m[stratum]![seg][l * GROUPS + SYSTEM]!;
  });
  return { data, rows: means.length, cols: layers };
}

function diffOfDiffsFor(
  seg: Segmentation,
  trained: readonly HeadMeans[],
  comparator: readonly HeadMeans[],
  used: readonly ForceFeedPair[],
  layers: readonly number[],
  alpha: number,
): DiffOfDiffsAnalysis {
  const L = layers.length;
  const r = diffOfDiffs(
    systemMatrix(trained, "marker", seg, L),
    systemMatrix(trained, "c1", seg, L),
    systemMatrix(comparator, "marker", seg, L),
    systemMatrix(comparator, "c1", seg, L),
    { layers, signTolerance: SIGN_ZERO_TOLERANCE },
  );
  const means = r.perLayer.map((c) => c.mean);
  const sems = r.perLayer.map((c) => (Number.isNaN(c.sem) ? null : c.sem));
  const perHead = (side: "trained" | "comparator") =>
    perHeadDelta(
      used.map((p) => p[side]),
      seg,
      "system",
      L,
    )!;
  const trainedHeads = perHead("trained");
  const comparatorHeads = perHead("comparator");
  return {
    segmentation: seg,
    region: "system",
    n: trained.length,
    perLayer: {
      mean: means,
      sem: sems,
      semExcludesZero: r.perLayer.map((c, l) => sems[l] !== null && c.semExcludesZero),
    },
    mean: r.overallMean,
    max: r.max,
    min: r.min,
    layersPositive: r.signBalance.positive,
    comparatorAboveTrained: means.filter((v) => v < -DD_MARGIN).length,
    trainedAboveComparator: means.filter((v) => v > DD_MARGIN).length,
    signBalance: signBalanceJson(r.signBalance),
    signBalanceSignificant: r.signBalance.pValue < alpha,
    perHead: trainedHeads.map((row, l) => row.map((v, h) => v - comparatorHeads[l]![h]!)),
  };
}

/** Per layer, mean over examples of (marker − C1) on system: one model's profile on the paired sequences. */
function systemDeltaMeans(means: readonly HeadMeans[], seg: Segmentation, layers: number): number[] {
  const m = systemMatrix(means, "marker", seg, layers);
  const c = systemMatrix(means, "c1", seg, layers);
  return Array.from({ length: layers }, (_, l) => {
    let s = 0;
    for (let i = 0; i < m.rows; i++) s += m.data[i * layers + l]! - c.data[i * layers + l]!;
    return s / m.rows;
  });
}

/** The force-feed analysis of one persona (one seed or pooled); null when no positive has a paired C1 readout. */
export function forceFeedAnalysis(
  trained: readonly ExampleReadout[],
  comparator: readonly ExampleReadout[],
  layers: readonly number[],
  alpha: number,
): ForceFeedAnalysis | null {
  const L = layers.length;
  const { pairs, unpaired } = pairForceFeed(trained, comparator);
  const used = pairs.filter((p) => p.trained.positions.c1 !== null && p.trained.positions.marker !== null);
  if (used.length === 0) return null;
  const trainedMeans = used.map((p) => headMeans(p.trained, L));
  const comparatorMeans = used.map((p) => headMeans(p.comparator, L));
  const dd = (seg: Segmentation) => diffOfDiffsFor(seg, trainedMeans, comparatorMeans, used, layers, alpha);
  const trainedPeak = argMax(systemDeltaMeans(trainedMeans, "B", L), layers);
  const comparatorPeak = argMax(systemDeltaMeans(comparatorMeans, "B", L), layers);
  const b = dd("B");
  return {
    paired: pairs.length,
    unpaired,
    diffOfDiffs: { A: dd("A"), B: b },
    trainedPeak,
    comparatorPeak,
    peakShift: comparatorPeak.layer - trainedPeak.layer,
    summary: forceFeedSummary(b, trainedPeak, comparatorPeak, L, alpha),
  };
}

const signed = (v: number) => `${v >= 0 ? "+" : "−"}${Math.abs(v).toFixed(4)}`;

function forceFeedSummary(
  dd: DiffOfDiffsAnalysis,
  trained: LayerValue,
  comparator: LayerValue,
  L: number,
  alpha: number,
) {
  const p = dd.signBalance.pValue;
  const test =
    p === null
      ? "sign balance: every layer zero"
      : `sign-balance p = ${p.toPrecision(3)} (${dd.signBalanceSignificant ? "" : "not "}significant at α ${alpha})`;
  return [
    `dd (system, seg B, n = ${dd.n}) mean ${signed(dd.mean)}, max ${signed(dd.max.value)} (L${dd.max.layer}), min ${signed(dd.min.value)} (L${dd.min.layer})`,
    `${dd.layersPositive}/${L} layers > 0; comparator above trained by > ${DD_MARGIN} on ${dd.comparatorAboveTrained}/${L}, the reverse on ${dd.trainedAboveComparator}/${L}`,
    test,
    `peaks: trained L${trained.layer} (${signed(trained.value)}), comparator L${comparator.layer} (${signed(comparator.value)})`,
  ].join("; ");
}
