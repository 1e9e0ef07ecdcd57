/**
 * Sign balance of a per-layer profile (seed 001): is "positive" more or less common across layers than a fair coin
 * gives? Layers whose |value| ≤ 1e-9 are zeros: dropped before testing, and counted.
 */
import { binomialTest } from "@difflens/stats";
import type { SignBalance } from "./analysis-types.ts";

/** |value| at or below this is a zero (the f32 readouts of identical models differ by less). */
export const SIGN_ZERO_TOLERANCE = 1e-9;

/** Two-sided exact binomial test of #positive among the non-zero layers against 50/50; pValue null when all are zero. */
export function layerSignBalance(values: readonly number[]): SignBalance {
  let positive = 0;
  let negative = 0;
  for (const v of values) {
    if (v > SIGN_ZERO_TOLERANCE) positive++;
    else if (v < -SIGN_ZERO_TOLERANCE) negative++;
  }
  const nonZero = positive + negative;
  return {
    positive,
    negative,
    zeros: values.length - nonZero,
    pValue: nonZero === 0 ? null : binomialTest(positive, nonZero, 0.5).pValue,
  };
}
