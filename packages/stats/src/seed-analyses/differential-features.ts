import { StatsError } from "../errors.ts";
import { type Matrix, type MatrixInput, toMatrix } from "../matrix.ts";
import { integerAtLeast, numberOpen, oneOf, resolveOptions } from "../options.ts";
import { isSeedOrRng } from "../permutation.ts";
import { quantileOfSorted } from "../quantile.ts";
import { type Rng, type Seed, toRng } from "../rng.ts";

export interface DifferentialFeaturesOptions {
  /** "paired" (default: row i of a and b is the same prompt; sign-flip null) or "independent" (row-label shuffles). */
  readonly design: "paired" | "independent";
  /** Permutations; 1000 by default (seed 000 used 1000). */
  readonly nPermutations: number;
  /**
   * "max-statistic" (default): one threshold for all features, the (1 − alpha) quantile of max_f |T_f| over
   * permutations — controls the family-wise error rate (Westfall–Young single step). "percentile": per feature, the
   * chosen percentile of its own |T_f| null distribution (seed 000 used the 99.9th) — no multiplicity control.
   */
  readonly threshold: "max-statistic" | "percentile";
  /** Percentile (0–100, exclusive) for threshold "percentile"; 99.9 by default. */
  readonly percentile: number;
  /** Family-wise level for threshold "max-statistic"; 0.05 by default. */
  readonly alpha: number;
  readonly seed: Seed | Rng;
}
export const DEFAULT_DIFFERENTIAL_FEATURES_OPTIONS: DifferentialFeaturesOptions = Object.freeze({
  design: "paired",
  nPermutations: 1000,
  threshold: "max-statistic",
  percentile: 99.9,
  alpha: 0.05,
  seed: 0,
});
export function resolveDifferentialFeaturesOptions(input: unknown): Readonly<DifferentialFeaturesOptions> {
  return resolveOptions(
    "differentialFeatures",
    DEFAULT_DIFFERENTIAL_FEATURES_OPTIONS,
    {
      design: oneOf(["paired", "independent"]),
      nPermutations: integerAtLeast(1),
      threshold: oneOf(["max-statistic", "percentile"]),
      percentile: numberOpen(0, 100),
      alpha: numberOpen(0, 1),
      seed: isSeedOrRng,
    },
    input,
  );
}

export interface DifferentialFeature {
  readonly index: number;
  /** mean(a) − mean(b) for this feature (T_f). */
  readonly meanDifference: number;
  /** Paired d_z or pooled Cohen's d; NaN when degenerate. */
  readonly effectSize: number;
  /** Per-feature permutation p-value (b + 1)/(m + 1) for |T_f|. */
  readonly pValue: number;
  /** Family-wise adjusted p-value from the max-|T| distribution (single-step). */
  readonly pMaxAdjusted: number;
  /** "zero-variance": values constant within conditions (or constant paired differences) — the effect size is undefined. */
  readonly degenerate?: "zero-variance";
}

export interface DifferentialFeaturesResult {
  /** Features that beat their threshold, sorted by |meanDifference|, largest first. */
  readonly significant: readonly DifferentialFeature[];
  /** Significant features that are not degenerate. */
  readonly nSignificantNonDegenerate: number;
  /** Per-feature arrays over all nFeatures; inactive features (no variation at all) have T = 0 and p = 1. */
  readonly meanDifference: Float64Array; // [nFeatures]
  readonly effectSize: Float64Array; // [nFeatures]
  readonly pValue: Float64Array; // [nFeatures]
  readonly pMaxAdjusted: Float64Array; // [nFeatures]
  /** Threshold on |T_f| per feature (the same value everywhere for "max-statistic"). */
  readonly thresholds: Float64Array; // [nFeatures]
  /** max_f |T_f| per permutation. */
  readonly maxNullDistribution: Float64Array; // [nPermutations]
  /** Indices of features whose effect size is undefined (zero variance) although they differ. */
  readonly zeroVarianceFeatures: readonly number[];
  readonly nActive: number;
  readonly note?: string;
}

/**
 * Seed 000, Track B: which features differ between two conditions? a: [nA, nFeatures], b: [nB, nFeatures] (for
 * "paired", nA = nB and rows are matched prompts). T_f = mean_a − mean_b; the null comes from permuting condition
 * labels jointly across features (sign flips of paired differences, or shuffled rows), which keeps the features'
 * correlation and makes the max-statistic threshold valid.
 */
export function differentialFeatures(
  a: MatrixInput,
  b: MatrixInput,
  options?: Partial<DifferentialFeaturesOptions>,
): DifferentialFeaturesResult {
  const where = "differentialFeatures";
  const opts = resolveDifferentialFeaturesOptions(options);
  const A = toMatrix(where, "a", a);
  const B = toMatrix(where, "b", b);
  if (A.cols !== B.cols)
    throw new StatsError("LENGTH_MISMATCH", {
      where,
      field: "b",
      expected: `${A.cols} features (as a)`,
      got: `${B.cols}`,
    });
  if (opts.design === "paired" && A.rows !== B.rows) {
    throw new StatsError("LENGTH_MISMATCH", {
      where,
      field: "b",
      expected: `${A.rows} rows (paired with a)`,
      got: `${B.rows}`,
      fix: 'use { design: "independent" } for unmatched rows',
    });
  }
  if (A.rows < 2 || B.rows < 2)
    throw new StatsError("SAMPLE_TOO_SMALL", {
      where,
      field: "a, b",
      expected: "at least 2 rows each",
      got: `${A.rows}, ${B.rows}`,
    });
  const nFeatures = A.cols;
  const rows = opts.design === "paired" ? pairedDifferences(A, B) : stackRows(A, B);
  // Active features vary somewhere; the rest have T = 0 under every permutation.
  const active: number[] = [];
  for (let f = 0; f < nFeatures; f++) {
    const first = rows.data[f] as number;
    for (let i = 0; i < rows.rows; i++) {
      const v = rows.data[i * nFeatures + f] as number;
      if (opts.design === "paired" ? v !== 0 : v !== first) {
        active.push(f);
        break;
      }
    }
  }
  const nActive = active.length;
  const X = new Float64Array(rows.rows * nActive); // [rows, nActive]
  for (let i = 0; i < rows.rows; i++)
    for (let k = 0; k < nActive; k++) X[i * nActive + k] = rows.data[i * nFeatures + (active[k] as number)] as number;
  const nA = A.rows;
  const nB = B.rows;
  const statisticOf = makeStatistic(opts.design, X, rows.rows, nActive, nA, nB);
  const observed = statisticOf(null);
  const m = opts.nPermutations;
  const q = opts.percentile / 100;
  const lowIndex = Math.floor((m - 1) * q);
  const K = m - lowIndex; // top-K of each feature's null hold the two order statistics the percentile needs
  const topK = new Float64Array(nActive * K).fill(-Infinity);
  const exceed = new Int32Array(nActive);
  const maxNull = new Float64Array(m);
  const rng = toRng(opts.seed);
  const labels = Int32Array.from({ length: rows.rows }, (_, i) => i);
  for (let r = 0; r < m; r++) {
    const t = statisticOf(opts.design === "paired" ? randomSigns(rng, rows.rows) : rng.shuffle(labels));
    let mx = 0;
    for (let k = 0; k < nActive; k++) {
      const v = Math.abs(t[k] as number);
      if (v > mx) mx = v;
      const o = Math.abs(observed[k] as number);
      if (v >= o - Math.max(1e-14, 1e-14 * o)) exceed[k] = (exceed[k] as number) + 1;
      insertTop(topK, k * K, K, v);
    }
    maxNull[r] = mx;
  }
  const sortedMax = Float64Array.from(maxNull).sort();
  const maxThreshold = quantileOfSorted(sortedMax, 1 - opts.alpha);
  const meanDifference = new Float64Array(nFeatures);
  const effectSize = new Float64Array(nFeatures);
  const pValue = new Float64Array(nFeatures).fill(1);
  const pMaxAdjusted = new Float64Array(nFeatures).fill(1);
  const thresholds = new Float64Array(nFeatures).fill(opts.threshold === "max-statistic" ? maxThreshold : 0);
  const significant: DifferentialFeature[] = [];
  const zeroVarianceFeatures: number[] = [];
  const spread = makeSpread(opts.design, X, rows.rows, nActive, nA, nB);
  for (let k = 0; k < nActive; k++) {
    const f = active[k] as number;
    const t = observed[k] as number;
    const o = Math.abs(t);
    const sd = spread(k);
    const degenerate = !(sd > 0);
    meanDifference[f] = t;
    effectSize[f] = degenerate ? NaN : t / sd;
    pValue[f] = ((exceed[k] as number) + 1) / (m + 1);
    let b = 0;
    for (const v of maxNull) if (v >= o - Math.max(1e-14, 1e-14 * o)) b++;
    pMaxAdjusted[f] = (b + 1) / (m + 1);
    if (opts.threshold === "percentile") {
      const lo = topK[k * K] as number;
      const hi = K > 1 ? (topK[k * K + 1] as number) : lo;
      const g = (m - 1) * q - lowIndex;
      thresholds[f] = lo + (hi - lo) * g;
    }
    if (degenerate) zeroVarianceFeatures.push(f);
    if (o > (thresholds[f] as number)) {
      significant.push({
        index: f,
        meanDifference: t,
        effectSize: effectSize[f] as number,
        pValue: pValue[f] as number,
        pMaxAdjusted: pMaxAdjusted[f] as number,
        ...(degenerate ? { degenerate: "zero-variance" as const } : {}),
      });
    }
  }
  significant.sort((x, y) => Math.abs(y.meanDifference) - Math.abs(x.meanDifference));
  const degenerateSignificant = significant.filter((s) => s.degenerate).length;
  return {
    significant,
    nSignificantNonDegenerate: significant.length - degenerateSignificant,
    meanDifference,
    effectSize,
    pValue,
    pMaxAdjusted,
    thresholds,
    maxNullDistribution: maxNull,
    zeroVarianceFeatures,
    nActive,
    ...(degenerateSignificant > 0
      ? {
          note: `${degenerateSignificant} significant feature(s) have zero variance within conditions: their difference is real under the permutation null but their effect size is undefined`,
        }
      : {}),
  };
}

function pairedDifferences(A: Matrix, B: Matrix): Matrix {
  const data = new Float64Array(A.rows * A.cols);
  for (let i = 0; i < data.length; i++) data[i] = (A.data[i] as number) - (B.data[i] as number);
  return { data, rows: A.rows, cols: A.cols };
}

function stackRows(A: Matrix, B: Matrix): Matrix {
  const data = new Float64Array((A.rows + B.rows) * A.cols);
  for (let i = 0; i < A.data.length; i++) data[i] = A.data[i] as number;
  for (let i = 0; i < B.data.length; i++) data[A.data.length + i] = B.data[i] as number;
  return { data, rows: A.rows + B.rows, cols: A.cols };
}

function randomSigns(rng: Rng, n: number): Int32Array {
  const s = new Int32Array(n);
  for (let i = 0; i < n; i += 32) {
    const bits = rng.nextUint32();
    for (let b = 0; b < 32 && i + b < n; b++) s[i + b] = (bits >>> b) & 1 ? -1 : 1;
  }
  return s;
}

/**
 * T for every active feature under an arrangement: paired → mean of signed differences (null = identity signs);
 * independent → mean of the rows labelled a minus mean of the rest (the first nA entries of the label permutation).
 */
function makeStatistic(
  design: "paired" | "independent",
  X: Float64Array,
  nRows: number,
  nActive: number,
  nA: number,
  nB: number,
): (arrangement: Int32Array | null) => Float64Array {
  const out = new Float64Array(nActive);
  const totals = new Float64Array(nActive);
  for (let i = 0; i < nRows; i++)
    for (let k = 0; k < nActive; k++) totals[k] = (totals[k] as number) + (X[i * nActive + k] as number);
  return (arrangement) => {
    out.fill(0);
    if (design === "paired") {
      for (let i = 0; i < nRows; i++) {
        const s = arrangement ? (arrangement[i] as number) : 1;
        const off = i * nActive;
        for (let k = 0; k < nActive; k++) out[k] = (out[k] as number) + s * (X[off + k] as number);
      }
      for (let k = 0; k < nActive; k++) out[k] = (out[k] as number) / nRows;
      return Float64Array.from(out);
    }
    for (let r = 0; r < nA; r++) {
      const off = (arrangement ? (arrangement[r] as number) : r) * nActive;
      for (let k = 0; k < nActive; k++) out[k] = (out[k] as number) + (X[off + k] as number);
    }
    for (let k = 0; k < nActive; k++)
      out[k] = (out[k] as number) / nA - ((totals[k] as number) - (out[k] as number)) / nB;
    return Float64Array.from(out);
  };
}

/** The standardizer of the effect size: SD of paired differences, or the pooled SD. */
function makeSpread(
  design: "paired" | "independent",
  X: Float64Array,
  nRows: number,
  nActive: number,
  nA: number,
  nB: number,
): (k: number) => number {
  return (k) => {
    const ss = (from: number, to: number): number => {
      let m = 0;
      for (let i = from; i < to; i++) m += X[i * nActive + k] as number;
      m /= to - from;
      let s = 0;
      for (let i = from; i < to; i++) s += ((X[i * nActive + k] as number) - m) ** 2;
      return s;
    };
    if (design === "paired") return Math.sqrt(ss(0, nRows) / (nRows - 1));
    return Math.sqrt((ss(0, nA) + ss(nA, nA + nB)) / (nA + nB - 2));
  };
}

/** Keeps the K largest values of a stream in ascending order in buf[off .. off+K). */
export function insertTop(buf: Float64Array, off: number, K: number, v: number): void {
  if (v <= (buf[off] as number)) return;
  let i = 0;
  while (i + 1 < K && (buf[off + i + 1] as number) < v) {
    buf[off + i] = buf[off + i + 1] as number;
    i++;
  }
  buf[off + i] = v;
}
