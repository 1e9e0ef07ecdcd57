import { StatsError } from "../errors.ts";
import { regularizedGamma } from "./gamma.ts";

/** Complementary error function via erfc(u) = Q(½, u²) for u ≥ 0 (full relative accuracy in the tail). */
export function erfc(u: number): number {
  if (Number.isNaN(u)) return NaN;
  if (u >= 0) return u === 0 ? 1 : regularizedGamma(0.5, u * u).upper;
  return 1 + regularizedGamma(0.5, u * u).lower;
}

/** Standard normal CDF Φ(z). */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/** Standard normal survival function 1 − Φ(z), accurate in the upper tail. */
export function normalSf(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/** Standard normal density. */
export function normalPdf(z: number): number {
  return Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
}

// Rational approximations of P. J. Acklam (relative error 1.15e-9), refined below by one Halley step.
const A = [
  -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
  2.506628277459239,
];
const B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
const C = [
  -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
  2.938163982698783,
];
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];

function poly(coefs: readonly number[], x: number): number {
  let r = 0;
  for (const c of coefs) r = r * x + c;
  return r;
}

/** Standard normal quantile Φ⁻¹(p): Acklam's approximation plus one Halley step (≈ full double precision). */
export function normalQuantile(p: number): number {
  if (Number.isNaN(p)) return NaN;
  if (!(p >= 0 && p <= 1)) {
    throw new StatsError("INVALID_ARGUMENT", {
      where: "normalQuantile",
      field: "p",
      expected: "a probability in [0, 1]",
      got: String(p),
    });
  }
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  const low = 0.02425;
  let z: number;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    z = poly(C, q) / (poly(D, q) * q + 1);
  } else if (p > 1 - low) {
    const q = Math.sqrt(-2 * Math.log1p(-p));
    z = -poly(C, q) / (poly(D, q) * q + 1);
  } else {
    const q = p - 0.5;
    const r = q * q;
    z = (poly(A, r) * q) / (poly(B, r) * r + 1);
  }
  // Halley refinement on the tail that is accurate: work with the smaller of p and 1 − p.
  const e = p < 0.5 ? normalCdf(z) - p : -(normalSf(z) - (1 - p));
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp(0.5 * z * z);
  return z - u / (1 + 0.5 * z * u);
}
