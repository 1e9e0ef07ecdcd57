import { describe, expect, it } from "vitest";
import { bcaProbabilities } from "../src/bootstrap.ts";
import {
  bootstrapConfidenceInterval,
  mean,
  Rng,
  signFlipPermutationTest,
  twoSamplePermutationTest,
} from "../src/index.ts";
import { quantileOfSorted } from "../src/quantile.ts";
import { expectClose, loadReference } from "./helpers.ts";

const ref = loadReference();
const meanOf = (v: Float64Array): number => v.reduce((s, x) => s + x, 0) / v.length;

describe("Monte Carlo permutation p-values approach scipy's exact p within 4·√(p(1−p)/m)", () => {
  for (const c of ref.mc_permutation) {
    it(`${c.kind} n=${c.x.length}/${c.y.length}: exact p over ${c.n_null} arrangements`, () => {
      const m = 20_000;
      const opts = { nResamples: m, exactThreshold: 0, seed: 123 };
      const r =
        c.kind === "paired"
          ? signFlipPermutationTest(c.x, c.y, undefined, opts)
          : twoSamplePermutationTest(c.x, c.y, undefined, opts);
      expect(r.exact).toBe(false);
      expect(r.nResamples).toBe(m);
      const bound = 4 * Math.sqrt((c.p_exact * (1 - c.p_exact)) / m) + 2 / m;
      expect(Math.abs(r.pValue - c.p_exact)).toBeLessThan(bound);
      expect(r.monteCarloError).toBeGreaterThan(0);
    });
  }

  it("Monte Carlo p is (b+1)/(m+1): never 0, and reproducible for a seed", () => {
    const x = Array.from({ length: 30 }, (_, i) => i + 100);
    const y = Array.from({ length: 40 }, (_, i) => i * 0.1);
    const r = twoSamplePermutationTest(x, y, undefined, { nResamples: 999, alternative: "greater", seed: 5 });
    expect(r.pValue).toBe(1 / 1000);
    const again = twoSamplePermutationTest(x, y, undefined, { nResamples: 999, alternative: "greater", seed: 5 });
    expect(Array.from(again.nullDistribution)).toEqual(Array.from(r.nullDistribution));
    const shared = Rng.fromSeed(1);
    const a = twoSamplePermutationTest(x, y, undefined, { nResamples: 50, exactThreshold: 0, seed: shared });
    const b = twoSamplePermutationTest(x, y, undefined, { nResamples: 50, exactThreshold: 0, seed: shared });
    expect(Array.from(a.nullDistribution)).not.toEqual(Array.from(b.nullDistribution)); // a shared Rng advances
  });

  it("exact enumeration switches on at the threshold: C(12, 5) = 792 arrangements", () => {
    const x = [1, 2, 3, 4, 5];
    const y = [2, 3, 4, 5, 6, 7, 8];
    expect(twoSamplePermutationTest(x, y, undefined, { exactThreshold: 792 }).exact).toBe(true);
    expect(twoSamplePermutationTest(x, y, undefined, { exactThreshold: 791 }).exact).toBe(false);
    expect(signFlipPermutationTest([1, -2, 3], undefined, undefined, { exactThreshold: 8 }).nResamples).toBe(8);
  });
});

describe("bootstrap", () => {
  it("BCa on a fixed bootstrap distribution equals scipy's _bca_interval to 1e-10", () => {
    const { x } = ref.bootstrap;
    const fixed = ref.bootstrap.bca_fixed;
    const xs = Float64Array.from(x);
    const jack = Float64Array.from({ length: xs.length }, (_, i) =>
      meanOf(Float64Array.from([...xs.subarray(0, i), ...xs.subarray(i + 1)])),
    );
    const sorted = Float64Array.from(fixed.theta_b).sort();
    const bca = bcaProbabilities(mean(xs), sorted, [jack], fixed.confidence_level);
    expectClose(bca.acceleration, fixed.a_hat, { atol: 1e-12 }, "a_hat");
    expectClose(bca.alpha1, fixed.alpha1, { atol: 1e-10 }, "alpha1");
    expectClose(bca.alpha2, fixed.alpha2, { atol: 1e-10 }, "alpha2");
    expectClose(quantileOfSorted(sorted, bca.alpha1), fixed.low, { atol: 1e-10 }, "low");
    expectClose(quantileOfSorted(sorted, bca.alpha2), fixed.high, { atol: 1e-10 }, "high");
  });

  it("percentile and BCa intervals match scipy.stats.bootstrap within resampling error (4 SD over 20 scipy runs)", () => {
    const { x, y } = ref.bootstrap;
    for (const c of ref.bootstrap.cases) {
      const samples = c.statistic === "mean" ? [x] : [x, y];
      const stat =
        c.statistic === "mean"
          ? (a: Float64Array) => meanOf(a)
          : (a: Float64Array, b: Float64Array) => meanOf(a) - meanOf(b);
      const r = bootstrapConfidenceInterval(samples, stat as (...s: Float64Array[]) => number, {
        method: c.method === "BCa" ? "bca" : "percentile",
        nResamples: 9999,
        seed: 2024,
      });
      // Our interval is one draw; scipy's mean is over 20, so the difference has SD ≈ sd·√(1 + 1/20).
      expect(Math.abs(r.low - c.low_mean), `${c.statistic} ${c.method} low`).toBeLessThan(
        4 * c.low_sd * Math.sqrt(1.05),
      );
      expect(Math.abs(r.high - c.high_mean), `${c.statistic} ${c.method} high`).toBeLessThan(
        4 * c.high_sd * Math.sqrt(1.05),
      );
      expect(r.low).toBeLessThan(r.estimate);
      expect(r.high).toBeGreaterThan(r.estimate);
    }
  });

  it("same seed ⇒ same interval; BCa on a constant sample is reported degenerate", () => {
    const x = [1, 4, 2, 8, 5, 7, 3, 3, 9];
    const a = bootstrapConfidenceInterval([x], (s) => meanOf(s), { nResamples: 500, seed: 9 });
    const b = bootstrapConfidenceInterval([x], (s) => meanOf(s), { nResamples: 500, seed: 9 });
    expect([a.low, a.high]).toEqual([b.low, b.high]);
    const flat = bootstrapConfidenceInterval([[2, 2, 2, 2]], (s) => meanOf(s), { nResamples: 200 });
    expect(flat.degenerate).toBe("constant-statistic");
    expect(flat.low).toBeNaN();
  });
});
