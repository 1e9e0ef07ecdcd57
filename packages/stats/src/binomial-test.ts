import { StatsError } from "./errors.ts";
import { ALTERNATIVES, type Alternative, NAN_POLICIES, type NanPolicy, oneOf, resolveOptions } from "./options.ts";
import { cleanPairs, cleanSample, type DegenerateReason, type Sample } from "./samples.ts";
import { binomialCdf, binomialPmf, binomialSf } from "./special/distributions.ts";

export interface BinomialTestOptions {
  /** "two-sided" (default), "less" (success rate below p) or "greater". */
  readonly alternative: Alternative;
}
export const DEFAULT_BINOMIAL_TEST_OPTIONS: BinomialTestOptions = Object.freeze({ alternative: "two-sided" });
export function resolveBinomialTestOptions(input: unknown): Readonly<BinomialTestOptions> {
  return resolveOptions("binomialTest", DEFAULT_BINOMIAL_TEST_OPTIONS, { alternative: oneOf(ALTERNATIVES) }, input);
}

export interface BinomialTestResult {
  /** Observed proportion k / n. */
  readonly statistic: number;
  readonly pValue: number;
  readonly k: number;
  readonly n: number;
  readonly p: number;
  readonly alternative: Alternative;
  readonly degenerate?: DegenerateReason;
  readonly note?: string;
}

/** Relative tolerance scipy.stats.binomtest uses when collecting outcomes "as or less likely" than the observed. */
const RELATIVE_TOLERANCE = 1 + 1e-7;

/**
 * First index in [lo, hi] (pmf increasing on it when `rising`, else decreasing) at which pmf ≤ bound, found by
 * bisection. Returns hi + 1 / lo − 1 when none qualifies.
 */
function boundary(n: number, p: number, bound: number, lo: number, hi: number, rising: boolean): number {
  // rising: find the largest i with pmf(i) ≤ bound (pmf increases with i). falling: smallest i with pmf(i) ≤ bound.
  let a = lo;
  let b = hi;
  if (rising) {
    if (binomialPmf(lo, n, p) > bound) return lo - 1;
    while (a < b) {
      const mid = a + Math.ceil((b - a) / 2);
      if (binomialPmf(mid, n, p) <= bound) a = mid;
      else b = mid - 1;
    }
    return a;
  }
  if (binomialPmf(hi, n, p) > bound) return hi + 1;
  while (a < b) {
    const mid = a + Math.floor((b - a) / 2);
    if (binomialPmf(mid, n, p) <= bound) b = mid;
    else a = mid + 1;
  }
  return a;
}

/**
 * Exact binomial test of H0: success probability = p, with k successes in n trials (scipy.stats.binomtest).
 * Two-sided p sums the probabilities of every outcome no more likely than the observed one, with scipy's relative
 * tolerance (pmf ≤ pmf(k)·(1 + 1e-7)), evaluated as a CDF plus an SF through the incomplete beta function.
 */
export function binomialTest(
  k: number,
  n: number,
  p = 0.5,
  options?: Partial<BinomialTestOptions>,
): BinomialTestResult {
  const { alternative } = resolveBinomialTestOptions(options);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new StatsError("INVALID_ARGUMENT", {
      where: "binomialTest",
      field: "n",
      expected: "an integer ≥ 1",
      got: String(n),
    });
  if (!Number.isSafeInteger(k) || k < 0 || k > n)
    throw new StatsError("INVALID_ARGUMENT", {
      where: "binomialTest",
      field: "k",
      expected: `an integer in [0, ${n}]`,
      got: String(k),
    });
  if (!(p >= 0 && p <= 1))
    throw new StatsError("INVALID_ARGUMENT", {
      where: "binomialTest",
      field: "p",
      expected: "a probability in [0, 1]",
      got: String(p),
    });
  let pValue: number;
  if (alternative === "less") pValue = binomialCdf(k, n, p);
  else if (alternative === "greater") pValue = binomialSf(k - 1, n, p);
  else {
    const bound = binomialPmf(k, n, p) * RELATIVE_TOLERANCE;
    const mode = n * p;
    if (k === mode) pValue = 1;
    else if (k < mode) {
      // Other tail: outcomes above the mode whose probability is ≤ bound; pmf falls on [ceil(np), n].
      const first = boundary(n, p, bound, Math.ceil(mode), n, false);
      pValue = binomialCdf(k, n, p) + binomialSf(first - 1, n, p);
    } else {
      // Other tail: outcomes below the mode; pmf rises on [0, floor(np)].
      const last = boundary(n, p, bound, 0, Math.floor(mode), true);
      pValue = binomialCdf(last, n, p) + binomialSf(k - 1, n, p);
    }
    pValue = Math.min(1, pValue);
  }
  return { statistic: k / n, pValue, k, n, p, alternative };
}

export interface SignTestOptions extends BinomialTestOptions {
  /** NaN handling; "raise" by default. */
  readonly nanPolicy: NanPolicy;
}
export const DEFAULT_SIGN_TEST_OPTIONS: SignTestOptions = Object.freeze({
  alternative: "two-sided",
  nanPolicy: "raise",
});
export function resolveSignTestOptions(input: unknown): Readonly<SignTestOptions> {
  return resolveOptions(
    "signTest",
    DEFAULT_SIGN_TEST_OPTIONS,
    { alternative: oneOf(ALTERNATIVES), nanPolicy: oneOf(NAN_POLICIES) },
    input,
  );
}

export interface SignTestResult {
  readonly pValue: number;
  /** Count of positive differences (the binomial k). */
  readonly positive: number;
  readonly negative: number;
  /** Exact zeros, dropped before testing (the classical convention). */
  readonly zeros: number;
  readonly alternative: Alternative;
  readonly degenerate?: DegenerateReason;
  readonly note?: string;
}

/**
 * Sign test: H0 says positive and negative differences are equally likely. Zeros are dropped; the p-value is the
 * exact binomial test of #positive out of #non-zero with p = ½. "greater" means positives dominate.
 * Pass one sample (differences) or two paired samples (x − y).
 */
export function signTest(x: Sample, y?: Sample, options?: Partial<SignTestOptions>): SignTestResult {
  const opts = resolveSignTestOptions(options);
  let d: Float64Array | null;
  if (y === undefined) d = cleanSample("signTest", "x", x, opts.nanPolicy, 1);
  else {
    const pairs = cleanPairs("signTest", x, y, opts.nanPolicy, 1);
    d = pairs === null ? null : pairs.x.map((v, i) => v - (pairs.y[i] as number));
  }
  if (d === null)
    return {
      pValue: NaN,
      positive: 0,
      negative: 0,
      zeros: 0,
      alternative: opts.alternative,
      degenerate: "nan-input",
      note: 'NaN in the data with nanPolicy "propagate"',
    };
  let positive = 0;
  let negative = 0;
  for (const v of d) {
    if (v > 0) positive++;
    else if (v < 0) negative++;
  }
  const zeros = d.length - positive - negative;
  if (positive + negative === 0) {
    return {
      pValue: NaN,
      positive,
      negative,
      zeros,
      alternative: opts.alternative,
      degenerate: "all-zero-differences",
      note: "every difference is exactly zero: the sign test has no information",
    };
  }
  const res = binomialTest(positive, positive + negative, 0.5, { alternative: opts.alternative });
  return { pValue: res.pValue, positive, negative, zeros, alternative: opts.alternative };
}
