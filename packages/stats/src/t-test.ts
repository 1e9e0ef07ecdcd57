import { meanUnchecked, sumSquaredDeviations } from "./descriptives.ts";
import {
  ALTERNATIVES,
  type Alternative,
  NAN_POLICIES,
  type NanPolicy,
  numberOpen,
  oneOf,
  resolveOptions,
} from "./options.ts";
import { cleanPairs, cleanSample, type DegenerateReason, type Sample } from "./samples.ts";
import { studentTQuantile, studentTTails } from "./special/distributions.ts";

export interface TTestOptions {
  /** "two-sided" (default), "less" (mean of x below y / mu) or "greater". */
  readonly alternative: Alternative;
  /** NaN handling; "raise" by default. */
  readonly nanPolicy: NanPolicy;
  /** Level of the confidence interval for the mean (difference); 0.95 by default. One-sided tests give one-sided intervals. */
  readonly confidenceLevel: number;
}
export const DEFAULT_T_TEST_OPTIONS: TTestOptions = Object.freeze({
  alternative: "two-sided",
  nanPolicy: "raise",
  confidenceLevel: 0.95,
});
export function resolveTTestOptions(input: unknown): Readonly<TTestOptions> {
  return resolveOptions(
    "tTest",
    DEFAULT_T_TEST_OPTIONS,
    { alternative: oneOf(ALTERNATIVES), nanPolicy: oneOf(NAN_POLICIES), confidenceLevel: numberOpen(0, 1) },
    input,
  );
}

export interface TTestResult {
  /** t statistic; NaN when `degenerate` is set. */
  readonly statistic: number;
  /** p-value for the chosen alternative; NaN when `degenerate` is set. */
  readonly pValue: number;
  /** Degrees of freedom (Welch–Satterthwaite for the Welch test). */
  readonly df: number;
  /** Mean of x (one-sample), of x − y (paired), or mean x − mean y (Welch); the interval is for this quantity. */
  readonly estimate: number;
  /** Standard error of the estimate. */
  readonly standardError: number;
  /** Confidence interval for the estimate; one-sided alternatives give an infinite end. */
  readonly confidenceInterval: readonly [number, number];
  readonly alternative: Alternative;
  /** Sample sizes after NaN handling: [n] or [nx, ny]. */
  readonly n: readonly number[];
  /** Set when the test has no meaningful answer, e.g. "zero-variance": both samples (or all differences) constant. */
  readonly degenerate?: DegenerateReason;
  /** A human-readable explanation when degenerate. */
  readonly note?: string;
}

function pValueFor(t: number, df: number, alternative: Alternative): number {
  const tails = studentTTails(t, df);
  if (alternative === "less") return tails.cdf;
  if (alternative === "greater") return tails.sf;
  return Math.min(1, 2 * (t > 0 ? tails.sf : tails.cdf));
}

function intervalFor(
  estimate: number,
  se: number,
  df: number,
  alternative: Alternative,
  level: number,
): [number, number] {
  if (alternative === "two-sided") {
    const q = studentTQuantile(0.5 + level / 2, df);
    return [estimate - q * se, estimate + q * se];
  }
  const q = studentTQuantile(level, df);
  return alternative === "less" ? [-Infinity, estimate + q * se] : [estimate - q * se, Infinity];
}

function finish(
  estimate: number,
  se: number,
  df: number,
  n: number[],
  options: Readonly<TTestOptions>,
  nullValue = 0,
): TTestResult {
  const base = { df, estimate, standardError: se, alternative: options.alternative, n };
  if (!(se > 0)) {
    return {
      ...base,
      statistic: NaN,
      pValue: NaN,
      confidenceInterval: [NaN, NaN],
      degenerate: "zero-variance",
      note: `zero variance: every value is identical within each sample, so t = ${estimate - nullValue}/0 is undefined; the estimate is exact but no p-value exists`,
    };
  }
  const t = (estimate - nullValue) / se;
  return {
    ...base,
    statistic: t,
    pValue: pValueFor(t, df, options.alternative),
    confidenceInterval: intervalFor(estimate, se, df, options.alternative, options.confidenceLevel),
  };
}

function nanResult(n: number[], options: Readonly<TTestOptions>): TTestResult {
  return {
    statistic: NaN,
    pValue: NaN,
    df: NaN,
    estimate: NaN,
    standardError: NaN,
    confidenceInterval: [NaN, NaN],
    alternative: options.alternative,
    n,
    degenerate: "nan-input",
    note: 'NaN in the data with nanPolicy "propagate"',
  };
}

/** One-sample t-test of H0: mean(x) = mu (scipy.stats.ttest_1samp). Needs ≥ 2 values. */
export function oneSampleTTest(x: Sample, mu = 0, options?: Partial<TTestOptions>): TTestResult {
  const opts = resolveTTestOptions(options);
  const xs = cleanSample("oneSampleTTest", "x", x, opts.nanPolicy, 2);
  if (xs === null) return nanResult([x.length], opts);
  const n = xs.length;
  const m = meanUnchecked(xs);
  const v = Math.max(0, sumSquaredDeviations(xs, m)) / (n - 1);
  return finish(m, Math.sqrt(v / n), n - 1, [n], opts, mu);
}

/** Paired t-test on x − y (scipy.stats.ttest_rel). Needs ≥ 2 pairs; "omit" drops a pair if either value is NaN. */
export function pairedTTest(x: Sample, y: Sample, options?: Partial<TTestOptions>): TTestResult {
  const opts = resolveTTestOptions(options);
  const pairs = cleanPairs("pairedTTest", x, y, opts.nanPolicy, 2);
  if (pairs === null) return nanResult([x.length], opts);
  const d = pairs.x.map((v, i) => v - (pairs.y[i] as number));
  return oneSampleTTest(d, 0, { ...opts, nanPolicy: "raise" });
}

/**
 * Welch's unequal-variance two-sample t-test (scipy.stats.ttest_ind(equal_var=False)); df by Welch–Satterthwaite.
 * Needs ≥ 2 values per sample.
 */
export function welchTTest(x: Sample, y: Sample, options?: Partial<TTestOptions>): TTestResult {
  const opts = resolveTTestOptions(options);
  const xs = cleanSample("welchTTest", "x", x, opts.nanPolicy, 2);
  const ys = cleanSample("welchTTest", "y", y, opts.nanPolicy, 2);
  if (xs === null || ys === null) return nanResult([x.length, y.length], opts);
  const nx = xs.length;
  const ny = ys.length;
  const mx = meanUnchecked(xs);
  const my = meanUnchecked(ys);
  const vx = Math.max(0, sumSquaredDeviations(xs, mx)) / (nx - 1) / nx;
  const vy = Math.max(0, sumSquaredDeviations(ys, my)) / (ny - 1) / ny;
  const se2 = vx + vy;
  const df = se2 > 0 ? (se2 * se2) / ((vx * vx) / (nx - 1) + (vy * vy) / (ny - 1)) : NaN;
  return finish(mx - my, Math.sqrt(se2), df, [nx, ny], opts);
}
