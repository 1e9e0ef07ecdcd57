import { describe, expect, it } from "vitest";
import { binomialSf, type Matrix, pairedMaxT, Rng } from "../src/index.ts";

/**
 * Error rates of pairedMaxT where a null exists (issue 17): prompt × condition activation matrices whose two
 * conditions are exchangeable within each prompt. The generator, per simulated pair (50 prompts × 2,000 latents):
 *   act_pj(c) = max(0, σ_j · (μ_j + z_pj + λ_j·f_pc + e_pjc)),  c ∈ {a, b}
 * μ_j ~ U(−2, 0.5) (sparse: most latents are zero in most prompts, so D has many exact ties at 0),
 * σ_j = exp(N(0, 0.5²)), z_pj a prompt effect shared by both conditions, f_pc one factor per prompt and condition
 * shared by all latents with loadings λ_j ~ U(−1, 1) (latents correlated), e a contaminated normal (N(0,1), scale 4
 * with probability 0.1: heavy tails). z, f and e are iid across conditions, so swapping a and b within a prompt leaves
 * the joint law unchanged: every latent is null. Normals and contaminated normals are drawn from tables of 2^20
 * values by a uniform index from xorshift32 (exact iid draws from the tables' empirical laws, so exchangeability holds exactly) to
 * fit the time. 199 sign flips per pair instead of 1,000: at α = 0.05, p ≤ α ⇔ at most 9 of 199 flips reach |t|,
 * exactly level 10/200 = α for a continuous statistic (conservative with ties).
 */
const N_PAIRS = 200;
const P = 50;
const L = 2000;
const ALPHA = 0.05;
const N_FLIPS = 199;

function table(rng: Rng, draw: () => number): Float64Array {
  return Float64Array.from({ length: 1 << 20 }, draw);
}

/** xorshift32 (Marsaglia 2003) for the table indices: a few ns a draw where Rng's xoshiro128** costs more. */
function xorshift32(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

function simulatePair(rng: Rng, normals: Float64Array, heavy: Float64Array, shifted: readonly number[] = []) {
  const index = xorshift32(rng.nextUint32());
  const pick = (t: Float64Array) => t[index() >>> 12] as number;
  const mu = Float64Array.from({ length: L }, () => -2 + 2.5 * rng.nextFloat64());
  const sigma = Float64Array.from({ length: L }, () => Math.exp(0.5 * pick(normals)));
  const loading = Float64Array.from({ length: L }, () => 2 * rng.nextFloat64() - 1);
  const a = new Float64Array(P * L); // [P, L]
  const b = new Float64Array(P * L);
  for (let p = 0; p < P; p++) {
    const fa = pick(normals);
    const fb = pick(normals);
    for (let j = 0; j < L; j++) {
      const base = (mu[j] as number) + pick(normals);
      const s = sigma[j] as number;
      const l = loading[j] as number;
      a[p * L + j] = Math.max(0, s * (base + l * fa + pick(heavy)));
      b[p * L + j] = Math.max(0, s * (base + l * fb + pick(heavy)));
    }
  }
  for (const j of shifted)
    for (let p = 0; p < P; p++) a[p * L + j] = (a[p * L + j] as number) + 1.5 * (sigma[j] as number);
  const m = (data: Float64Array): Matrix => ({ data, rows: P, cols: L });
  return [m(a), m(b)] as const;
}

describe("pairedMaxT error rates on exchangeable conditions (200 pairs × 50 prompts × 2,000 latents)", () => {
  const rng = Rng.fromSeed(2026);
  const normals = table(rng, () => rng.nextNormal());
  const heavy = table(rng, () => rng.nextNormal() * (rng.nextFloat64() < 0.1 ? 4 : 1));

  it("family-wise: any pass in ≤ 5% of pairs (binomial 99.9% bound); per-feature: ≈ α of the latents", () => {
    let pairsWithPass = 0;
    const perFeatureRates: number[] = [];
    for (let s = 0; s < N_PAIRS; s++) {
      const [a, b] = simulatePair(rng, normals, heavy);
      const r = pairedMaxT(a, b, { nPermutations: N_FLIPS, alpha: ALPHA, seed: s });
      if (r.passFamilywise.length > 0) pairsWithPass++;
      perFeatureRates.push(r.passPerFeature.length / r.nActive);
    }
    // The one-sided 99.9% binomial upper bound for 200 pairs at 5%: the smallest c with P(X > c) ≤ 0.001.
    let bound = 0;
    while (binomialSf(bound, N_PAIRS, ALPHA) > 0.001) bound++;
    expect(bound).toBe(21);
    expect(pairsWithPass).toBeLessThanOrEqual(bound);
    // Per feature: latents within a pair are correlated, so the tolerance comes from the spread across pairs:
    // mean rate within α ± 4 standard errors (ties at 0 make the test a little conservative).
    const mean = perFeatureRates.reduce((x, y) => x + y) / N_PAIRS;
    const sd = Math.sqrt(perFeatureRates.reduce((x, y) => x + (y - mean) ** 2, 0) / (N_PAIRS - 1));
    const se = sd / Math.sqrt(N_PAIRS);
    console.log(
      `family-wise: ${pairsWithPass}/${N_PAIRS} pairs; per-feature rate ${mean.toFixed(4)} ± ${se.toFixed(4)}`,
    );
    expect(Math.abs(mean - ALPHA)).toBeLessThanOrEqual(4 * se);
  });

  it("power: a planted shift in 5 latents passes family-wise, and little else does", () => {
    const planted = [7, 300, 901, 1500, 1999];
    const [a, b] = simulatePair(rng, normals, heavy, planted);
    const r = pairedMaxT(a, b, { nPermutations: N_FLIPS, alpha: ALPHA, seed: 1 });
    for (const j of planted) expect(Array.from(r.passFamilywise)).toContain(j);
    expect(r.passFamilywise.length).toBeLessThanOrEqual(planted.length + 1);
  });
});
