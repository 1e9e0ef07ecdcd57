import { StatsError } from "../errors.ts";

/** ln √(2π). */
export const LN_SQRT_2PI = 0.9189385332046727418;

/**
 * Stirling-series remainder: lnΓ(x) − [(x − ½)ln x − x + ln√(2π)], for x ≥ 10 (error < 1e-16 there).
 * Working with this remainder instead of lnΓ itself avoids cancelling large logarithms in ratios of gammas.
 */
export function stirlingRemainder(x: number): number {
  if (x < 10) return logGamma(x) - ((x - 0.5) * Math.log(x) - x + LN_SQRT_2PI);
  const r = 1 / x;
  const r2 = r * r;
  // Bernoulli-number coefficients B_{2k} / (2k(2k−1)).
  return (
    r *
    (1 / 12 +
      r2 * (-1 / 360 + r2 * (1 / 1260 + r2 * (-1 / 1680 + r2 * (1 / 1188 + r2 * (-691 / 360360 + r2 * (1 / 156)))))))
  );
}

/** ln Γ(x) for x > 0: shifted up to x ≥ 10 by Γ(x+1) = xΓ(x), then Stirling's series. */
export function logGamma(x: number): number {
  if (!(x > 0)) {
    if (Number.isNaN(x)) return NaN;
    throw new StatsError("INVALID_ARGUMENT", { where: "logGamma", field: "x", expected: "x > 0", got: String(x) });
  }
  if (x === Infinity) return Infinity;
  let shift = 0;
  let prod = 1;
  let y = x;
  while (y < 10) {
    prod *= y;
    y += 1;
    // Keep the product in range for tiny x.
    if (prod < 1e-250 || prod > 1e250) {
      shift += Math.log(prod);
      prod = 1;
    }
  }
  shift += Math.log(prod);
  return (y - 0.5) * Math.log(y) - y + LN_SQRT_2PI + stirlingRemainder(y) - shift;
}

/**
 * ln B(a, b) = lnΓ(a) + lnΓ(b) − lnΓ(a+b), arranged so large arguments do not cancel: when the larger argument
 * is ≥ 10, the Stirling terms are combined analytically and only small remainders are subtracted.
 */
export function logBeta(a: number, b: number): number {
  const p = Math.min(a, b);
  const q = Math.max(a, b);
  if (!(p > 0))
    throw new StatsError("INVALID_ARGUMENT", {
      where: "logBeta",
      field: "a, b",
      expected: "both > 0",
      got: `${a}, ${b}`,
    });
  if (q === Infinity) return -Infinity;
  const ratio = p / (p + q);
  if (p >= 10) {
    const corr = stirlingRemainder(p) + stirlingRemainder(q) - stirlingRemainder(p + q);
    return -0.5 * Math.log(q) + LN_SQRT_2PI + corr + (p - 0.5) * Math.log(ratio) + q * Math.log1p(-ratio);
  }
  if (q >= 10) {
    const corr = stirlingRemainder(q) - stirlingRemainder(p + q);
    return logGamma(p) + corr + p - p * Math.log(p + q) + (q - 0.5) * Math.log1p(-ratio);
  }
  return logGamma(p) + logGamma(q) - logGamma(p + q);
}

const TINY = 1e-300;
const EPS = 1e-16;
const MAX_ITERATIONS = 100_000;

/**
 * Regularized incomplete gamma functions for a > 0, x ≥ 0: returns both P(a, x) = γ(a, x)/Γ(a) and Q = 1 − P, each
 * computed directly where it is the small one (power series for P when x < a + 1, otherwise Q by the Legendre
 * continued fraction evaluated with the modified Lentz method).
 */
export function regularizedGamma(a: number, x: number): { lower: number; upper: number } {
  if (!(a > 0) || !(x >= 0)) {
    throw new StatsError("INVALID_ARGUMENT", {
      where: "regularizedGamma",
      field: "a, x",
      expected: "a > 0, x ≥ 0",
      got: `${a}, ${x}`,
    });
  }
  if (x === 0) return { lower: 0, upper: 1 };
  if (x === Infinity) return { lower: 1, upper: 0 };
  const logFront = a * Math.log(x) - x - logGamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let total = term;
    for (let n = 1; n < MAX_ITERATIONS; n++) {
      term *= x / (a + n);
      total += term;
      if (Math.abs(term) < Math.abs(total) * EPS) {
        const lower = Math.exp(logFront) * total;
        return { lower, upper: 1 - lower };
      }
    }
    throw new StatsError("NO_CONVERGENCE", { where: "regularizedGamma", field: "series", got: `a=${a}, x=${x}` });
  }
  // Q(a, x) = e^{-x} x^a / Γ(a) · 1/(x+1−a− 1·(1−a)/(x+3−a− 2·(2−a)/(x+5−a− …)))
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_ITERATIONS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPS) {
      const upper = Math.exp(logFront) * h;
      return { lower: 1 - upper, upper };
    }
  }
  throw new StatsError("NO_CONVERGENCE", {
    where: "regularizedGamma",
    field: "continued fraction",
    got: `a=${a}, x=${x}`,
  });
}
