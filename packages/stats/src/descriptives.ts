import { StatsError } from "./errors.ts";
import { type Sample, strictSample } from "./samples.ts";

/** Sum with Neumaier compensation: exact to about one rounding error regardless of length or ordering. */
export function sum(x: Sample): number {
  let s = 0;
  let c = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i] as number;
    const t = s + v;
    c += Math.abs(s) >= Math.abs(v) ? s - t + v : v - t + s;
    s = t;
  }
  return s + c;
}

/** Arithmetic mean. Throws EMPTY_SAMPLE on an empty sample and NAN_IN_DATA on NaN. */
export function mean(x: Sample): number {
  strictSample("mean", "x", x, 1);
  return meanUnchecked(x);
}

/** Mean without input checks (callers have validated). */
export function meanUnchecked(x: Sample): number {
  const m = sum(x) / x.length;
  // One refinement pass removes the residual rounding of the first estimate.
  let r = 0;
  for (let i = 0; i < x.length; i++) r += (x[i] as number) - m;
  return m + r / x.length;
}

/** Sum of squared deviations from the mean (two-pass with a compensation term). */
export function sumSquaredDeviations(x: Sample, m = meanUnchecked(x)): number {
  let ss = 0;
  let comp = 0;
  for (let i = 0; i < x.length; i++) {
    const d = (x[i] as number) - m;
    ss += d * d;
    comp += d;
  }
  return ss - (comp * comp) / x.length;
}

/**
 * Variance with `ddof` delta degrees of freedom: ddof 1 (default) is the sample variance (numpy `var(ddof=1)`),
 * ddof 0 the population variance. Needs more than `ddof` values.
 */
export function variance(x: Sample, ddof = 1): number {
  if (!Number.isInteger(ddof) || ddof < 0) {
    throw new StatsError("INVALID_ARGUMENT", {
      where: "variance",
      field: "ddof",
      expected: "a non-negative integer",
      got: String(ddof),
    });
  }
  strictSample("variance", "x", x, ddof + 1);
  return Math.max(0, sumSquaredDeviations(x)) / (x.length - ddof);
}

/** Sample variance (ddof = 1). */
export function sampleVariance(x: Sample): number {
  return variance(x, 1);
}

/** Population variance (ddof = 0). */
export function populationVariance(x: Sample): number {
  return variance(x, 0);
}

/** Standard deviation, sqrt(variance(x, ddof)); ddof 1 by default. */
export function standardDeviation(x: Sample, ddof = 1): number {
  return Math.sqrt(variance(x, ddof));
}

/** Standard error of the mean: sample standard deviation (ddof 1 by default, as scipy.stats.sem) over sqrt(n). */
export function sem(x: Sample, ddof = 1): number {
  return Math.sqrt(variance(x, ddof) / x.length);
}

/** Mean and SEM together, the pair most figures need ({ mean, sem, n }). */
export function meanWithSem(x: Sample): { mean: number; sem: number; n: number } {
  return { mean: mean(x), sem: sem(x), n: x.length };
}
