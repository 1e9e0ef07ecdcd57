/**
 * Sign balance of a per-layer profile (seed 001): is "positive" more or less common across layers than a fair coin
 * gives? Layers whose |value| ≤ 1e-9 are zeros: dropped before testing, and counted.
 */
import { signBalanceTest } from "@difflens/stats";
import type { SignBalance } from "./analysis-types.ts";

/** |value| at or below this is a zero (the f32 readouts of identical models differ by less). */
export const SIGN_ZERO_TOLERANCE = 1e-9;

/** Two-sided exact binomial test of #positive among the non-zero layers against 50/50; pValue null when all are zero. */
export function layerSignBalance(values: readonly number[]): SignBalance {
  return signBalanceJson(signBalanceTest(values, { tolerance: SIGN_ZERO_TOLERANCE }));
}

/** The JSON form of a stats sign-balance result (zeros = ties; a NaN p, all ties, becomes null). */
export function signBalanceJson(r: { positive: number; negative: number; ties: number; pValue: number }): SignBalance {
  return {
    positive: r.positive,
    negative: r.negative,
    zeros: r.ties,
    pValue: Number.isNaN(r.pValue) ? null : r.pValue,
  };
}
