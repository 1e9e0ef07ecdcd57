import type { MatrixInput } from "../matrix.ts";
import { integerAtLeast, numberOpen, optional, resolveOptions } from "../options.ts";
import { isSeedOrRng } from "../permutation.ts";
import { type Rng, type Seed, toRng } from "../rng.ts";
import { latentDifferences } from "./latent-differences.ts";
import { countAtLeast, tieThreshold } from "./permutation-ties.ts";
import { checkSignFlips, drawSignFlips, flippedSums, isNumberArray } from "./sign-flips.ts";

export interface PairedMaxTOptions {
  /** Sign-flip permutations N; 1000 by default. Ignored (must match if given) when `signs` is given. */
  readonly nPermutations: number;
  /** A latent passes when its p ≤ alpha; 0.001 by default (the seed's 99.9th percentile). */
  readonly alpha: number;
  readonly seed: Seed | Rng;
  /** Explicit flips [N·P] of ±1 (flip k, prompt p at k·P + p), for reproduction; overrides the seeded draw. */
  readonly signs?: ArrayLike<number>;
}
const DEFAULT_PAIRED_MAX_T_OPTIONS: PairedMaxTOptions = Object.freeze({ nPermutations: 1000, alpha: 0.001, seed: 0 });

export interface PairedMaxTResult {
  /** Paired t_j = mean_p D_pj / (sd_p(D_pj, ddof 1)/√P); NaN for degenerate and inactive latents. */
  readonly t: Float64Array; // [nLatents]
  /** d_z = mean / sd (ddof 1); NaN for degenerate and inactive latents. */
  readonly dz: Float64Array; // [nLatents]
  /** mean_p D_pj for every latent (0 when inactive). */
  readonly meanDifference: Float64Array; // [nLatents]
  /** (1 + #{k : |t_kj| ≥ |t_j|}) / (1 + N); NaN for degenerate and inactive latents. */
  readonly pPerFeature: Float64Array; // [nLatents]
  /** (1 + #{k : max_j' |t_kj'| ≥ |t_j|}) / (1 + N), the max over tested latents; NaN where not tested. */
  readonly pFamilywise: Float64Array; // [nLatents]
  /** Latents whose differences are the same in every prompt (spread ≤ 1e-6 of the latent's scale) but not all 0. */
  readonly degenerate: Int32Array;
  readonly nDegenerate: number;
  /** Latents with D ≡ 0 (including those that never fire). */
  readonly nInactive: number;
  /** Tested latents (have t and p): nActive + nDegenerate + nInactive = nLatents. */
  readonly nActive: number;
  /** True when no latent can be tested (every latent degenerate or inactive): the pair has no p-values at all. */
  readonly allDegenerate: boolean;
  /** Tested latents with pFamilywise ≤ alpha, ascending index — the headline count. */
  readonly passFamilywise: Int32Array;
  /** Tested latents with pPerFeature ≤ alpha; about alpha × nActive pass by chance alone. */
  readonly passPerFeature: Int32Array;
  /** max_j |t_kj| per flip (0 when nothing is tested). */
  readonly maxNull: Float64Array; // [N]
  /** The flips used, [N·P]. */
  readonly signs: Int8Array;
  readonly nPermutations: number;
  readonly nPrompts: number;
  readonly alpha: number;
}

/**
 * Seed 000 Track B done with a paired t and a family-wise max-T correction (Westfall & Young 1993, single step).
 * a, b: [P, nLatents], row p of each is the same prompt under the two conditions. Under the null the conditions are
 * exchangeable within a prompt, so every prompt's difference may change sign independently; the flips are shared by
 * all latents, which keeps their correlation and makes the max over latents a valid family-wise null.
 *
 * Cost: only non-inactive latents are touched. Σ_p D_pj² does not change under a flip, so each flip needs only
 * S_kj = Σ_p s_kp D_pj, and t_kj = S·√((P−1)/(P·Q − S²)) with Q = Σ_p D_pj².
 */
export function pairedMaxT(a: MatrixInput, b: MatrixInput, options?: Partial<PairedMaxTOptions>): PairedMaxTResult {
  const where = "pairedMaxT";
  const opts = resolveOptions(
    where,
    DEFAULT_PAIRED_MAX_T_OPTIONS,
    {
      nPermutations: integerAtLeast(1),
      alpha: numberOpen(0, 1),
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
  const tested: number[] = [];
  const degenerate: number[] = [];
  for (let k = 0; k < nKept; k++) (diff.degenerateMask[k] ? degenerate : tested).push(k);
  const nTested = tested.length;
  const twiceD = new Float64Array(P * nTested); // [P, nTested]
  const totals = new Float64Array(nTested);
  const sumSquares = new Float64Array(nTested);
  for (let p = 0; p < P; p++) {
    for (let i = 0; i < nTested; i++) {
      const d = diff.differences[p * nKept + (tested[i] as number)] as number;
      twiceD[p * nTested + i] = 2 * d;
      totals[i] = (totals[i] as number) + d;
      sumSquares[i] = (sumSquares[i] as number) + d * d;
    }
  }

  const n = diff.nLatents;
  const t = new Float64Array(n).fill(NaN);
  const dz = new Float64Array(n).fill(NaN);
  const meanDifference = new Float64Array(n);
  const pPerFeature = new Float64Array(n).fill(NaN);
  const pFamilywise = new Float64Array(n).fill(NaN);
  for (let k = 0; k < nKept; k++) {
    let s = 0;
    for (let p = 0; p < P; p++) s += diff.differences[p * nKept + k] as number;
    meanDifference[diff.kept[k] as number] = s / P;
  }
  // Observed t in two passes (mean, then squared deviations) for accuracy; the flips use the S/Q form.
  const thresholds = new Float64Array(nTested); // the smallest |t_kj| that counts as ≥ |t_j|
  for (let i = 0; i < nTested; i++) {
    const k = tested[i] as number;
    const j = diff.kept[k] as number;
    const m = meanDifference[j] as number;
    let ss = 0;
    for (let p = 0; p < P; p++) ss += ((diff.differences[p * nKept + k] as number) - m) ** 2;
    const sd = Math.sqrt(ss / (P - 1));
    t[j] = m / (sd / Math.sqrt(P));
    dz[j] = m / sd;
    thresholds[i] = tieThreshold(Math.abs(t[j] as number), 1e-12);
  }

  const exceed = new Int32Array(nTested);
  const maxNull = new Float64Array(nFlips);
  const sums = new Float64Array(nTested);
  for (let k = 0; k < nFlips; k++) {
    flippedSums(twiceD, totals, signs, k, P, sums);
    let max = 0;
    for (let i = 0; i < nTested; i++) {
      const s = sums[i] as number;
      const den = P * (sumSquares[i] as number) - s * s;
      // den ≤ 0 only when the flipped differences are all equal: an infinite t.
      const tk = den > 0 ? Math.abs(s) * Math.sqrt((P - 1) / den) : Infinity;
      if (tk >= (thresholds[i] as number)) exceed[i] = (exceed[i] as number) + 1;
      if (tk > max) max = tk;
    }
    maxNull[k] = max;
  }
  const sortedMax = Float64Array.from(maxNull).sort();
  const passFamilywise: number[] = [];
  const passPerFeature: number[] = [];
  for (let i = 0; i < nTested; i++) {
    const j = diff.kept[tested[i] as number] as number;
    pPerFeature[j] = (1 + (exceed[i] as number)) / (1 + nFlips);
    pFamilywise[j] = (1 + countAtLeast(sortedMax, thresholds[i] as number)) / (1 + nFlips);
    if ((pFamilywise[j] as number) <= opts.alpha) passFamilywise.push(j);
    if ((pPerFeature[j] as number) <= opts.alpha) passPerFeature.push(j);
  }
  return {
    t,
    dz,
    meanDifference,
    pPerFeature,
    pFamilywise,
    degenerate: Int32Array.from(degenerate, (k) => diff.kept[k] as number),
    nDegenerate: degenerate.length,
    nInactive: diff.nInactive,
    nActive: nTested,
    allDegenerate: nTested === 0,
    passFamilywise: Int32Array.from(passFamilywise),
    passPerFeature: Int32Array.from(passPerFeature),
    maxNull,
    signs,
    nPermutations: nFlips,
    nPrompts: P,
    alpha: opts.alpha,
  };
}
