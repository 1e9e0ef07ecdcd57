import type { MatrixInput } from "../matrix.ts";
import { integerAtLeast, numberOpen, optional, resolveOptions } from "../options.ts";
import { isSeedOrRng } from "../permutation.ts";
import { quantileOfSorted } from "../quantile.ts";
import { type Rng, type Seed, toRng } from "../rng.ts";
import { insertTop } from "./differential-features.ts";
import { latentDifferences } from "./latent-differences.ts";
import { tieThreshold } from "./permutation-ties.ts";
import { checkSignFlips, drawSignFlips, flippedSums, isNumberArray } from "./sign-flips.ts";

export interface SeedPercentileRuleOptions {
  readonly nPermutations: number;
  /** Percentile (0–100) of each latent's own null |T|; 99.9 by default, as the seed. */
  readonly percentile: number;
  readonly seed: Seed | Rng;
  /** Explicit flips [N·P] of ±1, as pairedMaxT's. */
  readonly signs?: ArrayLike<number>;
}
const DEFAULTS: SeedPercentileRuleOptions = Object.freeze({ nPermutations: 1000, percentile: 99.9, seed: 0 });

export interface SeedPercentileRuleResult {
  /** Latents with |T_j| above their threshold, ascending index. */
  readonly pass: Int32Array;
  /** Per latent: numpy.percentile(|T_kj| over flips, percentile, method="higher"); 0 for inactive latents. */
  readonly thresholds: Float64Array; // [nLatents]
  /** T_j = mean_p D_pj (the raw mean difference). */
  readonly meanDifference: Float64Array; // [nLatents]
  readonly signs: Int8Array;
  readonly nPermutations: number;
}

/**
 * Seed 000's own Track B rule, for reproduction: T_j = mean_p D_pj against the per-latent percentile of |T_kj| under
 * sign flips, numpy's "higher" method; a latent passes when |T_j| exceeds it (strictly, up to rounding). There is no
 * multiplicity control, and degenerate latents (constant D) pass easily — which is why pairedMaxT is the headline.
 * Inactive latents (D ≡ 0) never pass.
 */
export function seedPercentileRule(
  a: MatrixInput,
  b: MatrixInput,
  options?: Partial<SeedPercentileRuleOptions>,
): SeedPercentileRuleResult {
  const where = "seedPercentileRule";
  const opts = resolveOptions(
    where,
    DEFAULTS,
    {
      nPermutations: integerAtLeast(1),
      percentile: numberOpen(0, 100),
      seed: isSeedOrRng,
      signs: optional(isNumberArray),
    },
    options,
  );
  const diff = latentDifferences(where, a, b);
  const P = diff.nPrompts;
  const { signs, nFlips } =
    opts.signs !== undefined
      ? checkSignFlips(where, opts.signs, P, options?.nPermutations)
      : { signs: drawSignFlips(toRng(opts.seed), opts.nPermutations, P), nFlips: opts.nPermutations };
  const nKept = diff.kept.length;
  const twiceD = Float64Array.from(diff.differences, (d) => 2 * d); // [P, nKept]
  const totals = new Float64Array(nKept);
  for (let p = 0; p < P; p++)
    for (let k = 0; k < nKept; k++) totals[k] = (totals[k] as number) + (diff.differences[p * nKept + k] as number);
  // The "higher" percentile is the value at sorted index ⌈(N−1)q⌉: keep each latent's N − index largest |T_kj|.
  const ranks = Float64Array.from({ length: nFlips }, (_, i) => i);
  const index = quantileOfSorted(ranks, opts.percentile / 100, "higher");
  const K = nFlips - index;
  const top = new Float64Array(nKept * K).fill(-Infinity);
  const sums = new Float64Array(nKept);
  for (let f = 0; f < nFlips; f++) {
    flippedSums(twiceD, totals, signs, f, P, sums);
    for (let k = 0; k < nKept; k++) insertTop(top, k * K, K, Math.abs(sums[k] as number) / P);
  }
  const thresholds = new Float64Array(diff.nLatents);
  const meanDifference = new Float64Array(diff.nLatents);
  const pass: number[] = [];
  for (let k = 0; k < nKept; k++) {
    const j = diff.kept[k] as number;
    const T = (totals[k] as number) / P;
    meanDifference[j] = T;
    thresholds[j] = top[k * K] as number;
    if ((thresholds[j] as number) < tieThreshold(Math.abs(T))) pass.push(j);
  }
  return { pass: Int32Array.from(pass), thresholds, meanDifference, signs, nPermutations: nFlips };
}
