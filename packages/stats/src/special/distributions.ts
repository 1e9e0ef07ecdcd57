import { StatsError } from "../errors.ts";
import { regularizedBeta } from "./beta.ts";
import { LN_SQRT_2PI, logBeta, logGamma, stirlingRemainder } from "./gamma.ts";
import { normalCdf, normalQuantile, normalSf } from "./normal.ts";

function checkDf(where: string, df: number): void {
  if (!(df > 0)) throw new StatsError("INVALID_ARGUMENT", { where, field: "df", expected: "df > 0", got: String(df) });
}

/**
 * Two tails of Student's t with `df` degrees of freedom at t: { cdf: P(T ≤ t), sf: P(T > t) }.
 * P(|T| > |t|) = I_x(df/2, ½) with x = df/(df + t²); x and 1 − x are formed separately to keep accuracy.
 */
export function studentTTails(t: number, df: number): { cdf: number; sf: number } {
  checkDf("studentT", df);
  if (Number.isNaN(t)) return { cdf: NaN, sf: NaN };
  if (df === Infinity) return { cdf: normalCdf(t), sf: normalSf(t) };
  if (t === Infinity) return { cdf: 1, sf: 0 };
  if (t === -Infinity) return { cdf: 0, sf: 1 };
  const t2 = t * t;
  const x = df / (df + t2);
  const y = t2 / (df + t2);
  const { lower } = regularizedBeta(df / 2, 0.5, x, y);
  const oneTail = 0.5 * lower; // P(T > |t|)
  return t > 0 ? { cdf: 1 - oneTail, sf: oneTail } : { cdf: oneTail, sf: 1 - oneTail };
}

/** Student-t CDF P(T ≤ t). */
export function studentTCdf(t: number, df: number): number {
  return studentTTails(t, df).cdf;
}

/** Student-t survival function P(T > t). */
export function studentTSf(t: number, df: number): number {
  return studentTTails(t, df).sf;
}

/** Student-t density. */
export function studentTPdf(t: number, df: number): number {
  checkDf("studentTPdf", df);
  if (df === Infinity) return Math.exp(-0.5 * t * t - LN_SQRT_2PI);
  return Math.exp(-((df + 1) / 2) * Math.log1p((t * t) / df) - 0.5 * Math.log(df) - logBeta(df / 2, 0.5));
}

/** Student-t quantile: the t with P(T ≤ t) = p, by safeguarded Newton iteration on the CDF. */
export function studentTQuantile(p: number, df: number): number {
  checkDf("studentTQuantile", df);
  if (!(p >= 0 && p <= 1))
    throw new StatsError("INVALID_ARGUMENT", {
      where: "studentTQuantile",
      field: "p",
      expected: "[0, 1]",
      got: String(p),
    });
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  if (p === 0.5) return 0;
  if (df === Infinity) return normalQuantile(p);
  // Solve in the lower tail by symmetry so the target probability is the small, accurate one.
  const upper = p > 0.5;
  const target = upper ? 1 - p : p;
  let lo = -1;
  while (studentTCdf(lo, df) > target) lo *= 2;
  let hi = 0;
  let t = Math.max(lo, Math.min(hi, normalQuantile(target)));
  for (let i = 0; i < 200; i++) {
    const f = studentTCdf(t, df) - target;
    if (f === 0) break;
    if (f > 0) hi = t;
    else lo = t;
    let next = t - f / studentTPdf(t, df);
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (Math.abs(next - t) <= 1e-15 * Math.max(1, Math.abs(t))) {
      t = next;
      break;
    }
    t = next;
  }
  return upper ? -t : t;
}

/** Stirling error δ(n) = ln n! − [(n + ½)ln n − n + ln√(2π)] (Loader 2000). */
function stirlingError(n: number): number {
  // ln n! = ln n + lnΓ(n), so δ(n) is exactly the Stirling remainder of lnΓ(n).
  return n >= 10 ? stirlingRemainder(n) : logGamma(n + 1) - (n + 0.5) * Math.log(n) + n - LN_SQRT_2PI;
}

/** Deviance term x·ln(x/M) + M − x, computed without cancellation when x ≈ M (Loader 2000). */
function devianceTerm(x: number, M: number): number {
  if (Math.abs(x - M) < 0.1 * (x + M)) {
    const v = (x - M) / (x + M);
    let s = (x - M) * v;
    let ej = 2 * x * v;
    const v2 = v * v;
    for (let j = 1; j < 1000; j++) {
      ej *= v2;
      const s1 = s + ej / (2 * j + 1);
      if (s1 === s) return s1;
      s = s1;
    }
    return s;
  }
  return x * Math.log(x / M) + M - x;
}

function checkBinomial(where: string, n: number, p: number): void {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new StatsError("INVALID_ARGUMENT", { where, field: "n", expected: "a non-negative integer", got: String(n) });
  if (!(p >= 0 && p <= 1))
    throw new StatsError("INVALID_ARGUMENT", {
      where,
      field: "p",
      expected: "a probability in [0, 1]",
      got: String(p),
    });
}

/** Binomial probability mass P(X = k), X ~ Bin(n, p), by Loader's saddle-point expansion (relative accuracy ~1e-15). */
export function binomialPmf(k: number, n: number, p: number): number {
  checkBinomial("binomialPmf", n, p);
  if (!Number.isInteger(k) || k < 0 || k > n) return 0;
  const q = 1 - p;
  if (p === 0) return k === 0 ? 1 : 0;
  if (q === 0) return k === n ? 1 : 0;
  if (k === 0) return n === 0 ? 1 : Math.exp(n * Math.log1p(-p));
  if (k === n) return Math.exp(n * Math.log(p));
  const lc =
    stirlingError(n) - stirlingError(k) - stirlingError(n - k) - devianceTerm(k, n * p) - devianceTerm(n - k, n * q);
  const lf = Math.log(2 * Math.PI) + Math.log(k) + Math.log1p(-k / n);
  return Math.exp(lc - 0.5 * lf);
}

/** Binomial CDF P(X ≤ k) = I_{1−p}(n − k, k + 1). */
export function binomialCdf(k: number, n: number, p: number): number {
  checkBinomial("binomialCdf", n, p);
  const kk = Math.floor(k);
  if (kk < 0) return 0;
  if (kk >= n) return 1;
  if (p === 0) return 1;
  if (p === 1) return 0;
  return regularizedBeta(n - kk, kk + 1, 1 - p, p).lower;
}

/** Binomial survival function P(X > k) = I_p(k + 1, n − k). */
export function binomialSf(k: number, n: number, p: number): number {
  checkBinomial("binomialSf", n, p);
  const kk = Math.floor(k);
  if (kk < 0) return 1;
  if (kk >= n) return 0;
  if (p === 0) return 0;
  if (p === 1) return 1;
  return regularizedBeta(kk + 1, n - kk, p, 1 - p).lower;
}
