import { StatsError } from "../errors.ts";
import { regularizedBetaLargeA } from "./beta-large-a.ts";
import { LN_SQRT_2PI, logBeta, stirlingRemainder } from "./gamma.ts";

/** Below this the asymptotic large-a expansion is not used (it is accurate to ~1e-15 from a ≈ 15 on). */
const LARGE_A = 50;

const TINY = 1e-300;

/** Dekker's exact product: returns [p, e] with p + e = u·v exactly (barring overflow). */
function twoProduct(u: number, v: number): [number, number] {
  const p = u * v;
  const su = 134217729 * u;
  const uh = su - (su - u);
  const ul = u - uh;
  const sv = 134217729 * v;
  const vh = sv - (sv - v);
  const vl = v - vh;
  return [p, uh * vh - p + uh * vl + ul * vh + ul * vl];
}

/**
 * ln[x^a y^b / B(a, b)]. When both a and b are large, a·ln x and ln B are each huge and nearly cancel, so the
 * logarithm is rebuilt around the mode x0 = a/(a+b): a·ln(x/x0) + b·ln(y/y0) with x·(a+b) − a formed exactly,
 * plus the Stirling remainders (the approach of DiDonato & Morris 1992).
 */
function logPowerTerms(a: number, b: number, x: number, y: number, lnX: number, lnY: number): number {
  if (Math.min(a, b) < 10) return a * lnX + b * lnY - logBeta(a, b);
  const c = a + b;
  const [px, ex] = twoProduct(x, c);
  const [py, ey] = twoProduct(y, c);
  const dx = px - a + ex; // x·c − a
  const dy = py - b + ey; // y·c − b
  const corr = stirlingRemainder(a) + stirlingRemainder(b) - stirlingRemainder(c);
  return a * Math.log1p(dx / a) + b * Math.log1p(dy / b) + 0.5 * Math.log((a / c) * b) - LN_SQRT_2PI - corr;
}
const EPS = 1e-16;
const MAX_ITERATIONS = 200_000;

/**
 * Continued fraction for I_x(a, b) · a·B(a, b) / (x^a y^b), modified Lentz method (Thompson & Barnett 1986).
 * Converges fast for x < (a + 1)/(a + b + 2); the caller swaps arguments otherwise.
 */
function betaContinuedFraction(a: number, b: number, x: number, y: number): number {
  let c = 1;
  // First denominator 1 − (a+b)x/(a+1); near x = 1 it is rebuilt from y = 1 − x to avoid cancelling digits.
  let d = x > 0.5 ? ((a + b) * y + (1 - b)) / (a + 1) : 1 - ((a + b) * x) / (a + 1);
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
  throw new StatsError("NO_CONVERGENCE", {
    where: "regularizedBeta",
    field: "continued fraction",
    got: `a=${a}, b=${b}, x=${x}`,
  });
}

/**
 * Regularized incomplete beta I_x(a, b) and its complement 1 − I_x(a, b) = I_y(b, a), with y = 1 − x passed
 * separately so callers that know y more accurately than 1 − x (e.g. the t distribution) keep that accuracy.
 * Both values are returned; whichever is computed directly (the smaller tail) carries full relative accuracy.
 */
export function regularizedBeta(a: number, b: number, x: number, y: number = 1 - x): { lower: number; upper: number } {
  if (!(a > 0) || !(b > 0) || !(x >= 0 && x <= 1) || !(y >= 0 && y <= 1)) {
    throw new StatsError("INVALID_ARGUMENT", {
      where: "regularizedBeta",
      field: "a, b, x",
      expected: "a > 0, b > 0, 0 ≤ x ≤ 1",
      got: `${a}, ${b}, ${x}`,
    });
  }
  if (x === 0) return { lower: 0, upper: 1 };
  if (y === 0) return { lower: 1, upper: 0 };
  const lnX = x > 0.5 ? Math.log1p(-y) : Math.log(x);
  const lnY = y > 0.5 ? Math.log1p(-x) : Math.log(y);
  // Large a, small b, x near 1 (Student t with large df): the continued fraction loses ~log10(1/y) digits there.
  if (b <= 1 && a >= LARGE_A && x > 0.5) {
    const lower = regularizedBetaLargeA(a, b, lnX);
    return { lower, upper: 1 - lower };
  }
  if (a <= 1 && b >= LARGE_A && y > 0.5) {
    const upper = regularizedBetaLargeA(b, a, lnY);
    return { lower: 1 - upper, upper };
  }
  if (x < (a + 1) / (a + b + 2)) {
    const lower = (Math.exp(logPowerTerms(a, b, x, y, lnX, lnY)) / a) * betaContinuedFraction(a, b, x, y);
    return { lower, upper: 1 - lower };
  }
  const upper = (Math.exp(logPowerTerms(a, b, x, y, lnX, lnY)) / b) * betaContinuedFraction(b, a, y, x);
  return { lower: 1 - upper, upper };
}
