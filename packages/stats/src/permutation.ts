import { meanUnchecked } from "./descriptives.ts";
import {
  ALTERNATIVES,
  type Alternative,
  integerAtLeast,
  NAN_POLICIES,
  type NanPolicy,
  type OptionCheck,
  oneOf,
  resolveOptions,
} from "./options.ts";
import { Rng, type Seed, toRng } from "./rng.ts";
import { cleanPairs, cleanSample, type DegenerateReason, type Sample } from "./samples.ts";

export interface PermutationOptions {
  /** "two-sided" (default): 2·min(p_less, p_greater) capped at 1, as scipy.stats.permutation_test; or one tail. */
  readonly alternative: Alternative;
  /** Random arrangements drawn when the exact enumeration is too large; 9999 by default. */
  readonly nResamples: number;
  /** Enumerate every arrangement when there are at most this many (default 100 000); 0 forces Monte Carlo. */
  readonly exactThreshold: number;
  /** Seed (or a shared Rng) for Monte Carlo draws; 0 by default so results are reproducible unless changed. */
  readonly seed: Seed | Rng;
  /** NaN handling; "raise" by default. */
  readonly nanPolicy: NanPolicy;
}
export const isSeedOrRng: OptionCheck = (v) =>
  v instanceof Rng || (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) || (typeof v === "bigint" && v >= 0n)
    ? undefined
    : "a non-negative integer seed or an Rng";
export const DEFAULT_PERMUTATION_OPTIONS: PermutationOptions = Object.freeze({
  alternative: "two-sided",
  nResamples: 9999,
  exactThreshold: 100_000,
  seed: 0,
  nanPolicy: "raise",
});
export function resolvePermutationOptions(input: unknown): Readonly<PermutationOptions> {
  return resolveOptions(
    "permutationTest",
    DEFAULT_PERMUTATION_OPTIONS,
    {
      alternative: oneOf(ALTERNATIVES),
      nResamples: integerAtLeast(1),
      exactThreshold: integerAtLeast(0),
      seed: isSeedOrRng,
      nanPolicy: oneOf(NAN_POLICIES),
    },
    input,
  );
}

export interface PermutationResult {
  readonly statistic: number;
  /** Exact: (#arrangements as extreme)/(#arrangements). Monte Carlo: (b + 1)/(m + 1). NaN when degenerate. */
  readonly pValue: number;
  /** True when every arrangement was enumerated. */
  readonly exact: boolean;
  /** Arrangements evaluated (the full count when exact, else nResamples). */
  readonly nResamples: number;
  /** Monte Carlo standard error √(p(1−p)/m) of the p-value (0 when exact); |p̂ − p| ≤ 4·SE with high probability. */
  readonly monteCarloError: number;
  /** The statistic under every evaluated arrangement (includes the observed arrangement when exact). */
  readonly nullDistribution: Float64Array;
  readonly alternative: Alternative;
  readonly degenerate?: DegenerateReason;
  readonly note?: string;
}

/** scipy's tolerance for "as extreme": values within max(1e-14, 1e-14·|observed|) of the observed count as ties. */
export function permutationPValue(
  nullDistribution: Float64Array,
  observed: number,
  alternative: Alternative,
  exact: boolean,
): number {
  const gamma = Math.max(1e-14, Math.abs(1e-14 * observed));
  const adjustment = exact ? 0 : 1;
  let less = 0;
  let greater = 0;
  for (const v of nullDistribution) {
    if (v <= observed + gamma) less++;
    if (v >= observed - gamma) greater++;
  }
  const m = nullDistribution.length;
  const pLess = (less + adjustment) / (m + adjustment);
  const pGreater = (greater + adjustment) / (m + adjustment);
  if (alternative === "less") return Math.min(1, pLess);
  if (alternative === "greater") return Math.min(1, pGreater);
  return Math.min(1, 2 * Math.min(pLess, pGreater));
}

function binomialCoefficient(n: number, k: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
  return Math.round(c);
}

function assemble(
  observed: number,
  nullDistribution: Float64Array,
  exact: boolean,
  alternative: Alternative,
): PermutationResult {
  const m = nullDistribution.length;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of nullDistribution) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const base = { statistic: observed, exact, nResamples: m, nullDistribution, alternative };
  if (!Number.isFinite(observed) || Number.isNaN(lo) || Number.isNaN(hi)) {
    return {
      ...base,
      pValue: NaN,
      monteCarloError: NaN,
      degenerate: "nan-input",
      note: "the statistic returned NaN or ±Infinity",
    };
  }
  if (
    hi - lo <= Math.max(1e-14, Math.abs(1e-14 * observed)) &&
    Math.abs(observed - lo) <= Math.max(1e-14, Math.abs(1e-14 * observed))
  ) {
    return {
      ...base,
      pValue: NaN,
      monteCarloError: 0,
      degenerate: "constant-statistic",
      note: "the statistic takes the same value under every arrangement (e.g. all values identical): the test has no information",
    };
  }
  const pValue = permutationPValue(nullDistribution, observed, alternative, exact);
  return { ...base, pValue, monteCarloError: exact ? 0 : Math.sqrt((pValue * (1 - pValue)) / m) };
}

/** The two-sample statistic: any function of the two groups (e.g. a difference of means or medians). */
export type TwoSampleStatistic = (x: Float64Array, y: Float64Array) => number;

export const meanDifference: TwoSampleStatistic = (x, y) => meanUnchecked(x) - meanUnchecked(y);

/**
 * Two-sample permutation test for any statistic; groups may differ in size. Arrangements reassign the pooled values
 * to groups of the original sizes: all C(nx+ny, nx) of them when that is ≤ exactThreshold, else nResamples random
 * ones (Fisher–Yates on the pooled values) with p = (b + 1)/(m + 1).
 */
export function twoSamplePermutationTest(
  x: Sample,
  y: Sample,
  statistic: TwoSampleStatistic = meanDifference,
  options?: Partial<PermutationOptions>,
): PermutationResult {
  const opts = resolvePermutationOptions(options);
  const xs = cleanSample("twoSamplePermutationTest", "x", x, opts.nanPolicy, 1);
  const ys = cleanSample("twoSamplePermutationTest", "y", y, opts.nanPolicy, 1);
  if (xs === null || ys === null) return assemble(NaN, new Float64Array(0), false, opts.alternative);
  const nx = xs.length;
  const n = nx + ys.length;
  const pooled = new Float64Array(n);
  pooled.set(xs);
  pooled.set(ys, nx);
  const observed = statistic(xs, ys);
  const total = binomialCoefficient(n, Math.min(nx, n - nx));
  const gx = new Float64Array(nx);
  const gy = new Float64Array(n - nx);
  if (total <= opts.exactThreshold) {
    const nullDistribution = new Float64Array(total);
    const chosen = Array.from({ length: nx }, (_, i) => i);
    for (let a = 0; a < total; a++) {
      let xi = 0;
      let yi = 0;
      for (let i = 0; i < n; i++) {
        if (xi < nx && chosen[xi] === i) gx[xi++] = pooled[i] as number;
        else gy[yi++] = pooled[i] as number;
      }
      nullDistribution[a] = statistic(gx, gy);
      // Next nx-combination of 0..n−1 in lexicographic order.
      let k = nx - 1;
      while (k >= 0 && (chosen[k] as number) === n - nx + k) k--;
      if (k < 0) break;
      chosen[k] = (chosen[k] as number) + 1;
      for (let j = k + 1; j < nx; j++) chosen[j] = (chosen[j - 1] as number) + 1;
    }
    return assemble(observed, nullDistribution, true, opts.alternative);
  }
  const rng = toRng(opts.seed);
  const work = Float64Array.from(pooled);
  const nullDistribution = new Float64Array(opts.nResamples);
  for (let r = 0; r < opts.nResamples; r++) {
    rng.shuffle(work);
    gx.set(work.subarray(0, nx));
    gy.set(work.subarray(nx));
    nullDistribution[r] = statistic(gx, gy);
  }
  return assemble(observed, nullDistribution, false, opts.alternative);
}

/** A statistic of paired differences (default: their mean). */
export type PairedStatistic = (differences: Float64Array) => number;

/**
 * Paired sign-flip permutation test: under H0 each difference x − y is symmetric about 0, so every sign pattern is
 * equally likely. Exact over all 2^n patterns when 2^n ≤ exactThreshold, else nResamples random patterns.
 * Pass differences as x alone, or two paired samples.
 */
export function signFlipPermutationTest(
  x: Sample,
  y?: Sample,
  statistic: PairedStatistic = meanUnchecked,
  options?: Partial<PermutationOptions>,
): PermutationResult {
  const opts = resolvePermutationOptions(options);
  let d: Float64Array | null;
  if (y === undefined) d = cleanSample("signFlipPermutationTest", "x", x, opts.nanPolicy, 1);
  else {
    const pairs = cleanPairs("signFlipPermutationTest", x, y, opts.nanPolicy, 1);
    d = pairs === null ? null : pairs.x.map((v, i) => v - (pairs.y[i] as number));
  }
  if (d === null) return assemble(NaN, new Float64Array(0), false, opts.alternative);
  const n = d.length;
  const observed = statistic(d);
  const flipped = new Float64Array(n);
  if (n <= 52 && 2 ** n <= opts.exactThreshold) {
    const total = 2 ** n;
    const nullDistribution = new Float64Array(total);
    for (let mask = 0; mask < total; mask++) {
      for (let i = 0; i < n; i++)
        flipped[i] = Math.floor(mask / 2 ** i) % 2 === 1 ? -(d[i] as number) : (d[i] as number);
      nullDistribution[mask] = statistic(flipped);
    }
    return assemble(observed, nullDistribution, true, opts.alternative);
  }
  const rng = toRng(opts.seed);
  const nullDistribution = new Float64Array(opts.nResamples);
  for (let r = 0; r < opts.nResamples; r++) {
    for (let i = 0; i < n; i += 32) {
      const bits = rng.nextUint32();
      for (let b = 0; b < 32 && i + b < n; b++)
        flipped[i + b] = (bits >>> b) & 1 ? -(d[i + b] as number) : (d[i + b] as number);
    }
    nullDistribution[r] = statistic(flipped);
  }
  return assemble(observed, nullDistribution, false, opts.alternative);
}
