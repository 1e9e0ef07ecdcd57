import { StatsError } from "./errors.ts";
import { integerAtLeast, NAN_POLICIES, type NanPolicy, numberOpen, oneOf, resolveOptions } from "./options.ts";
import { isSeedOrRng } from "./permutation.ts";
import { quantileOfSorted } from "./quantile.ts";
import { type Rng, type Seed, toRng } from "./rng.ts";
import { cleanSample, type DegenerateReason, type Sample } from "./samples.ts";
import { normalCdf, normalQuantile } from "./special/normal.ts";

export interface BootstrapOptions {
  /** "bca" (bias-corrected and accelerated, Efron 1987; default) or "percentile". */
  readonly method: "bca" | "percentile";
  /** Two-sided confidence level; 0.95 by default. */
  readonly confidenceLevel: number;
  /** Bootstrap resamples; 9999 by default (as scipy.stats.bootstrap). */
  readonly nResamples: number;
  /** Seed or shared Rng; 0 by default. */
  readonly seed: Seed | Rng;
  /** NaN handling; "raise" by default. */
  readonly nanPolicy: NanPolicy;
}
export const DEFAULT_BOOTSTRAP_OPTIONS: BootstrapOptions = Object.freeze({
  method: "bca",
  confidenceLevel: 0.95,
  nResamples: 9999,
  seed: 0,
  nanPolicy: "raise",
});
export function resolveBootstrapOptions(input: unknown): Readonly<BootstrapOptions> {
  return resolveOptions(
    "bootstrap",
    DEFAULT_BOOTSTRAP_OPTIONS,
    {
      method: oneOf(["bca", "percentile"]),
      confidenceLevel: numberOpen(0, 1),
      nResamples: integerAtLeast(2),
      seed: isSeedOrRng,
      nanPolicy: oneOf(NAN_POLICIES),
    },
    input,
  );
}

/** A statistic of one or more independent samples, e.g. (x) => mean, or (x, y) => mean(x) − mean(y). */
export type BootstrapStatistic = (...samples: Float64Array[]) => number;

export interface BootstrapResult {
  /** The statistic on the original data. */
  readonly estimate: number;
  readonly low: number;
  readonly high: number;
  readonly method: "bca" | "percentile";
  readonly confidenceLevel: number;
  /** Standard deviation (ddof 1) of the bootstrap distribution. */
  readonly standardError: number;
  readonly bootstrapDistribution: Float64Array;
  readonly degenerate?: DegenerateReason;
  readonly note?: string;
}

/**
 * BCa endpoints as probabilities (Efron & Tibshirani 1993, §14.3, eq. 14.14–14.15): z0 from the share of the
 * bootstrap distribution below the estimate (ties counted half, as scipy), acceleration from the jackknife values of
 * each sample (leave one out of sample j, others intact), summed over samples as scipy.stats.bootstrap does.
 */
export function bcaProbabilities(
  estimate: number,
  sortedBoot: Float64Array,
  jackknife: readonly Float64Array[],
  confidenceLevel: number,
): { alpha1: number; alpha2: number; acceleration: number; z0: number } {
  let below = 0;
  let atOrBelow = 0;
  for (const v of sortedBoot) {
    if (v < estimate) below++;
    if (v <= estimate) atOrBelow++;
  }
  const z0 = normalQuantile((below + atOrBelow) / (2 * sortedBoot.length));
  let num = 0;
  let den = 0;
  for (const values of jackknife) {
    const n = values.length;
    let m = 0;
    for (const v of values) m += v;
    m /= n;
    let s3 = 0;
    let s2 = 0;
    for (const v of values) {
      const u = (n - 1) * (m - v);
      s2 += u * u;
      s3 += u * u * u;
    }
    num += s3 / n ** 3;
    den += s2 / n ** 2;
  }
  const acceleration = num / 6 / den ** 1.5;
  const alpha = (1 - confidenceLevel) / 2;
  const zLow = normalQuantile(alpha);
  const n1 = z0 + zLow;
  const n2 = z0 - zLow;
  return {
    alpha1: normalCdf(z0 + n1 / (1 - acceleration * n1)),
    alpha2: normalCdf(z0 + n2 / (1 - acceleration * n2)),
    acceleration,
    z0,
  };
}

/**
 * Bootstrap confidence interval for `statistic` of one or more samples, each resampled with replacement
 * independently (scipy.stats.bootstrap with paired=False). Endpoints are numpy-linear quantiles of the bootstrap
 * distribution at α/2 and 1 − α/2 (percentile) or at the BCa-adjusted levels.
 */
export function bootstrapConfidenceInterval(
  samples: readonly Sample[],
  statistic: BootstrapStatistic,
  options?: Partial<BootstrapOptions>,
): BootstrapResult {
  const opts = resolveBootstrapOptions(options);
  if (!Array.isArray(samples) || samples.length === 0) {
    throw new StatsError("EMPTY_SAMPLE", {
      where: "bootstrapConfidenceInterval",
      field: "samples",
      expected: "an array of one or more samples",
      got: "none",
    });
  }
  const minLength = opts.method === "bca" ? 2 : 1;
  const cleaned = samples.map((s, j) =>
    cleanSample("bootstrapConfidenceInterval", `samples[${j}]`, s, opts.nanPolicy, minLength),
  );
  const base = { method: opts.method, confidenceLevel: opts.confidenceLevel };
  if (cleaned.some((c) => c === null)) {
    return {
      ...base,
      estimate: NaN,
      low: NaN,
      high: NaN,
      standardError: NaN,
      bootstrapDistribution: new Float64Array(0),
      degenerate: "nan-input",
      note: 'NaN in the data with nanPolicy "propagate"',
    };
  }
  const data = cleaned as Float64Array[];
  const estimate = statistic(...data);
  const rng = toRng(opts.seed);
  const resampled = data.map((d) => new Float64Array(d.length));
  const boot = new Float64Array(opts.nResamples);
  for (let r = 0; r < opts.nResamples; r++) {
    data.forEach((d, j) => {
      const target = resampled[j] as Float64Array;
      for (let i = 0; i < d.length; i++) target[i] = d[rng.nextInt(d.length)] as number;
    });
    boot[r] = statistic(...resampled);
  }
  const sorted = Float64Array.from(boot).sort();
  let m = 0;
  for (const v of boot) m += v;
  m /= boot.length;
  let ss = 0;
  for (const v of boot) ss += (v - m) ** 2;
  const standardError = Math.sqrt(ss / (boot.length - 1));
  const alpha = (1 - opts.confidenceLevel) / 2;
  let p1 = alpha;
  let p2 = 1 - alpha;
  if (opts.method === "bca") {
    const jackknife = data.map((d, j) => {
      const others = [...data];
      const loo = new Float64Array(d.length - 1);
      return Float64Array.from({ length: d.length }, (_, i) => {
        loo.set(d.subarray(0, i));
        loo.set(d.subarray(i + 1), i);
        others[j] = loo;
        return statistic(...others);
      });
    });
    const bca = bcaProbabilities(estimate, sorted, jackknife, opts.confidenceLevel);
    if (!Number.isFinite(bca.alpha1) || !Number.isFinite(bca.alpha2)) {
      return {
        ...base,
        estimate,
        low: NaN,
        high: NaN,
        standardError,
        bootstrapDistribution: boot,
        degenerate: "constant-statistic",
        note: 'BCa is undefined here (bootstrap distribution entirely on one side of the estimate, or no jackknife variation); use method "percentile" or more data',
      };
    }
    p1 = bca.alpha1;
    p2 = bca.alpha2;
  }
  return {
    ...base,
    estimate,
    low: quantileOfSorted(sorted, p1),
    high: quantileOfSorted(sorted, p2),
    standardError,
    bootstrapDistribution: boot,
  };
}
