import {
  ALTERNATIVES,
  type Alternative,
  isBoolean,
  NAN_POLICIES,
  type NanPolicy,
  oneOf,
  resolveOptions,
} from "./options.ts";
import { averageRanks } from "./rank.ts";
import { cleanPairs, cleanSample, type DegenerateReason, type Sample } from "./samples.ts";
import { normalCdf, normalSf } from "./special/normal.ts";

export interface WilcoxonOptions {
  /** "two-sided" (default), "less" or "greater" (x − y tends to be positive). */
  readonly alternative: Alternative;
  /** Zero differences: "wilcox" drops them (default), "pratt" ranks then drops them, "zsplit" splits their ranks. */
  readonly zeroMethod: "wilcox" | "pratt" | "zsplit";
  /** Continuity correction of ±½ in the normal approximation; false by default, as in scipy. */
  readonly correction: boolean;
  /**
   * "exact": the exact null distribution of R+ (no ties, no zeros required); "approx": normal approximation with
   * the tie correction (and the zero correction for "pratt"); "auto" (default): exact when n ≤ 50 and there are
   * no zeros and no ties, else approx. scipy 1.10's "auto" also goes exact with ties, where it truncates the
   * half-integer rank sum; we use the normal approximation there instead.
   */
  readonly method: "auto" | "exact" | "approx";
  /** NaN handling; "raise" by default. */
  readonly nanPolicy: NanPolicy;
}
export const DEFAULT_WILCOXON_OPTIONS: WilcoxonOptions = Object.freeze({
  alternative: "two-sided",
  zeroMethod: "wilcox",
  correction: false,
  method: "auto",
  nanPolicy: "raise",
});
export function resolveWilcoxonOptions(input: unknown): Readonly<WilcoxonOptions> {
  return resolveOptions(
    "wilcoxon",
    DEFAULT_WILCOXON_OPTIONS,
    {
      alternative: oneOf(ALTERNATIVES),
      zeroMethod: oneOf(["wilcox", "pratt", "zsplit"]),
      correction: isBoolean,
      method: oneOf(["auto", "exact", "approx"]),
      nanPolicy: oneOf(NAN_POLICIES),
    },
    input,
  );
}

export interface WilcoxonResult {
  /** min(R+, R−) for two-sided, R+ for one-sided alternatives (scipy's convention). */
  readonly statistic: number;
  readonly pValue: number;
  /** Normal-approximation z (only when method is "approx"). */
  readonly zStatistic?: number;
  /** Which method produced the p-value. */
  readonly method: "exact" | "approx";
  readonly rPlus: number;
  readonly rMinus: number;
  /** Number of differences (zeros included for "pratt"/"zsplit", excluded for "wilcox" in approx mode). */
  readonly n: number;
  readonly zeros: number;
  readonly alternative: Alternative;
  readonly degenerate?: DegenerateReason;
  readonly note?: string;
}

const distributionCache = new Map<number, Float64Array>();

/** Exact null distribution of R+ for n untied non-zero differences: counts[s] = #subsets of {1..n} summing to s. */
export function signedRankCounts(n: number): Float64Array {
  const cached = distributionCache.get(n);
  if (cached) return cached;
  const maxSum = (n * (n + 1)) / 2;
  const counts = new Float64Array(maxSum + 1);
  counts[0] = 1;
  for (let r = 1; r <= n; r++) {
    for (let s = (r * (r + 1)) / 2; s >= r; s--) counts[s] = (counts[s] as number) + (counts[s - r] as number);
  }
  distributionCache.set(n, counts);
  return counts;
}

function exactPValue(rPlus: number, n: number, alternative: Alternative): number {
  const counts = signedRankCounts(n);
  const total = 2 ** n;
  let below = 0;
  for (let s = 0; s <= rPlus; s++) below += counts[s] as number;
  let above = 0;
  for (let s = rPlus; s < counts.length; s++) above += counts[s] as number;
  if (alternative === "greater") return Math.min(1, above / total);
  if (alternative === "less") return Math.min(1, below / total);
  if (rPlus === (counts.length - 1) / 2) return 1;
  return Math.min(1, (2 * Math.min(below, above)) / total);
}

/**
 * Wilcoxon signed-rank test on x (differences) or x − y (paired), following scipy.stats.wilcoxon's definitions
 * (statistic, zero methods, tie and continuity corrections); see WilcoxonOptions.method for the auto rule.
 */
export function wilcoxonSignedRank(x: Sample, y?: Sample, options?: Partial<WilcoxonOptions>): WilcoxonResult {
  const opts = resolveWilcoxonOptions(options);
  let d: Float64Array | null;
  if (y === undefined) d = cleanSample("wilcoxonSignedRank", "x", x, opts.nanPolicy, 1);
  else {
    const pairs = cleanPairs("wilcoxonSignedRank", x, y, opts.nanPolicy, 1);
    d = pairs === null ? null : pairs.x.map((v, i) => v - (pairs.y[i] as number));
  }
  const base = { alternative: opts.alternative };
  if (d === null)
    return {
      ...base,
      statistic: NaN,
      pValue: NaN,
      method: "approx",
      rPlus: NaN,
      rMinus: NaN,
      n: 0,
      zeros: 0,
      degenerate: "nan-input",
      note: 'NaN in the data with nanPolicy "propagate"',
    };
  const zeros = d.reduce((c, v) => c + (v === 0 ? 1 : 0), 0);
  const hasTies = averageRanks(d.filter((v) => v !== 0).map(Math.abs)).tieGroupSizes.length > 0;
  let method: "exact" | "approx" =
    opts.method === "auto" ? (d.length <= 50 && zeros === 0 && !hasTies ? "exact" : "approx") : opts.method;
  const notes: string[] = [];
  if (method === "exact" && (zeros > 0 || hasTies)) {
    method = "approx";
    notes.push(
      `exact distribution needs no zeros and no ties (found ${zeros} zero(s)${hasTies ? " and ties" : ""}); used the normal approximation`,
    );
  }
  if (zeros === d.length && opts.zeroMethod !== "zsplit") {
    return {
      ...base,
      statistic: NaN,
      pValue: NaN,
      method,
      rPlus: 0,
      rMinus: 0,
      n: d.length,
      zeros,
      degenerate: "all-zero-differences",
      note: "every difference is exactly zero: no signed ranks to test",
    };
  }
  if (method === "approx" && opts.zeroMethod === "wilcox") d = d.filter((v) => v !== 0);
  const n = d.length;
  const { ranks, tieGroupSizes } = averageRanks(d.map(Math.abs));
  let rPlus = 0;
  let rMinus = 0;
  let rZero = 0;
  d.forEach((v, i) => {
    const r = ranks[i] as number;
    if (v > 0) rPlus += r;
    else if (v < 0) rMinus += r;
    else rZero += r;
  });
  if (opts.zeroMethod === "zsplit") {
    rPlus += rZero / 2;
    rMinus += rZero / 2;
  }
  const statistic = opts.alternative === "two-sided" ? Math.min(rPlus, rMinus) : rPlus;
  if (method === "exact") {
    return { ...base, statistic, pValue: exactPValue(rPlus, n, opts.alternative), method, rPlus, rMinus, n, zeros };
  }
  let mean = (n * (n + 1)) / 4;
  let varianceTimes24 = n * (n + 1) * (2 * n + 1);
  if (opts.zeroMethod === "pratt") {
    // Cureton (1967): remove the zeros' share; ties are counted among the non-zero ranks only.
    mean -= (zeros * (zeros + 1)) / 4;
    varianceTimes24 -= zeros * (zeros + 1) * (2 * zeros + 1);
  }
  const diffs = d;
  const groups =
    opts.zeroMethod === "pratt" ? averageRanks(ranks.filter((_, i) => diffs[i] !== 0)).tieGroupSizes : tieGroupSizes;
  for (const t of groups) varianceTimes24 -= 0.5 * t * (t * t - 1);
  const se = Math.sqrt(varianceTimes24 / 24);
  let cc = 0;
  if (opts.correction)
    cc =
      opts.alternative === "two-sided" ? 0.5 * Math.sign(statistic - mean) : opts.alternative === "less" ? -0.5 : 0.5;
  const z = (statistic - mean - cc) / se;
  const pValue =
    opts.alternative === "two-sided"
      ? Math.min(1, 2 * normalSf(Math.abs(z)))
      : opts.alternative === "greater"
        ? normalSf(z)
        : normalCdf(z);
  if (n < 10) notes.push(`only ${n} non-zero differences: the normal approximation is rough`);
  return {
    ...base,
    statistic,
    pValue,
    zStatistic: z,
    method,
    rPlus,
    rMinus,
    n,
    zeros,
    ...(notes.length ? { note: notes.join("; ") } : {}),
  };
}
