import { StatsError } from "../errors.ts";
import { logBeta } from "./gamma.ts";

const TINY = 1e-300;
const EPS = 1e-16;
const MAX_ITERATIONS = 200_000;

/**
 * Continued fraction for I_x(a, b) · a·B(a, b) / (x^a y^b), modified Lentz method (Thompson & Barnett 1986).
 * Converges fast for x < (a + 1)/(a + b + 2); the caller swaps arguments otherwise.
 */
function betaContinuedFraction(a: number, b: number, x: number): number {
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m < MAX_ITERATIONS; m++) {
    const m2 = 2 * m;
    // Even step: m(b − m)x / ((a + 2m − 1)(a + 2m)).
    let coef = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + coef * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + coef / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    // Odd step: −(a + m)(a + b + m)x / ((a + 2m)(a + 2m + 1)).
    coef = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + coef * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + coef / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPS) return h;
  }
  throw new StatsError("NO_CONVERGENCE", { where: "regularizedBeta", field: "continued fraction", got: `a=${a}, b=${b}, x=${x}` });
}

/**
 * Regularized incomplete beta I_x(a, b) and its complement 1 − I_x(a, b) = I_y(b, a), with y = 1 − x passed
 * separately so callers that know y more accurately than 1 − x (e.g. the t distribution) keep that accuracy.
 * Both values are returned; whichever is computed directly (the smaller tail) carries full relative accuracy.
 */
export function regularizedBeta(a: number, b: number, x: number, y: number = 1 - x): { lower: number; upper: number } {
  if (!(a > 0) || !(b > 0) || !(x >= 0 && x <= 1) || !(y >= 0 && y <= 1)) {
    throw new StatsError("INVALID_ARGUMENT", { where: "regularizedBeta", field: "a, b, x", expected: "a > 0, b > 0, 0 ≤ x ≤ 1", got: `${a}, ${b}, ${x}` });
  }
  if (x === 0) return { lower: 0, upper: 1 };
  if (y === 0) return { lower: 1, upper: 0 };
  const lnX = x > 0.5 ? Math.log1p(-y) : Math.log(x);
  const lnY = y > 0.5 ? Math.log1p(-x) : Math.log(y);
  if (x < (a + 1) / (a + b + 2)) {
    const lower = Math.exp(a * lnX + b * lnY - Math.log(a) - logBeta(a, b)) * betaContinuedFraction(a, b, x);
    return { lower, upper: 1 - lower };
  }
  const upper = Math.exp(a * lnX + b * lnY - Math.log(b) - logBeta(a, b)) * betaContinuedFraction(b, a, y);
  return { lower: 1 - upper, upper };
}
