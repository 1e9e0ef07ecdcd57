import { describe, expect, it } from "vitest";
import {
  correlationTest,
  type Matrix,
  pairedMaxT,
  Rng,
  StatsError,
  seedPercentileRule,
  spearmanCorrelation,
  trackAProjection,
} from "../src/index.ts";

const matrix = (rows: number[][]): Matrix => ({
  data: Float64Array.from(rows.flat()),
  rows: rows.length,
  cols: (rows[0] as number[]).length,
});

/** Every one of the 2^P sign patterns, flattened [2^P · P]. */
function allSignPatterns(P: number): number[] {
  const out: number[] = [];
  for (let m = 0; m < 2 ** P; m++) for (let p = 0; p < P; p++) out.push((m >> p) & 1 ? -1 : 1);
  return out;
}

/** t and d_z of a column, straight from the definition. */
function pairedT(d: number[]): { t: number; dz: number } {
  const P = d.length;
  const m = d.reduce((s, v) => s + v, 0) / P;
  const sd = Math.sqrt(d.reduce((s, v) => s + (v - m) ** 2, 0) / (P - 1));
  return { t: m / (sd / Math.sqrt(P)), dz: m / sd };
}

describe("pairedMaxT", () => {
  // 4 prompts × 4 latents: latent 0 shifts up, latent 1 is noise, latent 2 is inactive (identical), latent 3 constant.
  const a = [
    [2.0, 0.5, 1.0, 3.0],
    [2.5, 0.0, 0.0, 4.0],
    [1.5, 1.0, 2.0, 5.0],
    [3.0, 0.2, 0.5, 6.0],
  ];
  const b = [
    [0.5, 0.9, 1.0, 2.0],
    [1.0, 0.1, 0.0, 3.0],
    [0.0, 0.4, 2.0, 4.0],
    [1.0, 0.6, 0.5, 5.0],
  ];
  const signs = allSignPatterns(4);
  const r = pairedMaxT(matrix(a), matrix(b), { signs, alpha: 0.2 });

  it("t, d_z and both p-values match a float64 recomputation over all 16 flips", () => {
    const column = (j: number) => a.map((row, p) => (row[j] as number) - (b[p]?.[j] as number));
    const tested = [0, 1];
    const flipped = (j: number, k: number) => column(j).map((d, p) => (signs[k * 4 + p] as number) * d);
    const maxNull = Array.from({ length: 16 }, (_, k) =>
      Math.max(...tested.map((j) => Math.abs(pairedT(flipped(j, k)).t))),
    );
    for (const j of tested) {
      const { t, dz } = pairedT(column(j));
      expect(r.t[j]).toBeCloseTo(t, 12);
      expect(r.dz[j]).toBeCloseTo(dz, 12);
      const perFeature = Array.from({ length: 16 }, (_, k) => Math.abs(pairedT(flipped(j, k)).t)).filter(
        (v) => v >= Math.abs(t) - 1e-9,
      ).length;
      expect(r.pPerFeature[j]).toBe((1 + perFeature) / 17);
      expect(r.pFamilywise[j]).toBe((1 + maxNull.filter((v) => v >= Math.abs(t) - 1e-9).length) / 17);
    }
    // Latent 0's differences are all positive: only the identity and its mirror reach |t|, so p = 3/17.
    expect(r.pPerFeature[0]).toBe(3 / 17);
    expect(Array.from(r.passPerFeature)).toEqual([0]);
    expect(Array.from(r.maxNull)).toHaveLength(16);
  });

  it("counts inactive (D ≡ 0) and degenerate (constant D) latents apart, with no t or p", () => {
    expect([r.nActive, r.nDegenerate, r.nInactive, r.allDegenerate]).toEqual([2, 1, 1, false]);
    expect(Array.from(r.degenerate)).toEqual([3]);
    for (const j of [2, 3])
      for (const key of ["t", "dz", "pPerFeature", "pFamilywise"] as const) expect(r[key][j]).toBeNaN();
    expect(r.meanDifference[3]).toBe(1);
    expect(r.meanDifference[2]).toBe(0);
  });

  it("activations identical across prompts (the last system token): everything degenerate, no p of 0 anywhere", () => {
    const rowA = [0.3, 0, 2.5, 1.0, 0];
    const rowB = [0.1, 0, 2.5, 1.7, 0.4];
    const A = Array.from({ length: 6 }, () => rowA);
    const B = Array.from({ length: 6 }, () => rowB);
    const res = pairedMaxT(A, B, { nPermutations: 50 });
    expect(res.allDegenerate).toBe(true);
    expect([res.nActive, res.nDegenerate, res.nInactive]).toEqual([0, 3, 2]);
    expect(res.pPerFeature.every(Number.isNaN) && res.pFamilywise.every(Number.isNaN)).toBe(true);
    expect(res.passFamilywise.length + res.passPerFeature.length).toBe(0);
    // Identical conditions: every latent inactive, the pair flagged as well.
    const same = pairedMaxT(A, A, { nPermutations: 10 });
    expect([same.allDegenerate, same.nInactive]).toEqual([true, 5]);
    // Relative jitter of 1e-9 is still "identical"; the latent that never fires stays inactive.
    const jittered = B.map((row, p) => row.map((v) => v * (1 + 1e-9 * p)));
    const res2 = pairedMaxT(A, jittered, { nPermutations: 10 });
    expect([res2.nDegenerate, res2.nInactive, res2.allDegenerate]).toEqual([4, 1, true]);
  });

  it("seeded flips are fair ±1 coins; returned signs reproduce the result exactly", () => {
    const rng = Rng.fromSeed(5);
    const A = matrix(Array.from({ length: 20 }, () => Array.from({ length: 30 }, () => rng.nextNormal())));
    const B = matrix(Array.from({ length: 20 }, () => Array.from({ length: 30 }, () => rng.nextNormal())));
    const first = pairedMaxT(A, B, { nPermutations: 300, seed: 11 });
    expect(first.signs).toHaveLength(300 * 20);
    const minus = first.signs.filter((s) => s === -1).length;
    expect(Math.abs(minus - 3000)).toBeLessThan(4 * Math.sqrt(1500));
    const again = pairedMaxT(A, B, { signs: first.signs });
    for (const key of ["t", "pPerFeature", "pFamilywise", "maxNull"] as const) expect(again[key]).toEqual(first[key]);
    expect(pairedMaxT(A, B, { nPermutations: 300, seed: 11 }).pFamilywise).toEqual(first.pFamilywise);
    expect(pairedMaxT(A, B, { nPermutations: 300, seed: 12 }).signs).not.toEqual(first.signs);
    expect(() => pairedMaxT(A, B, { signs: [1, -1, 0] })).toThrow(StatsError);
    expect(() => pairedMaxT(A, B, { signs: first.signs, nPermutations: 5 })).toThrow(/options.nPermutations/);
    expect(() => pairedMaxT(A, matrix([[1, 2]]))).toThrow(/field b/);
  });
});

describe("seedPercentileRule", () => {
  it("thresholds are numpy's 'higher' percentile of |mean(s·D)|; a degenerate latent passes (the seed's artifact)", () => {
    // 3 prompts, all 8 flips: latent 0 D = (1, 2, 3); latent 1 D ≡ 0.5 (degenerate); latent 2 inactive.
    const a = [
      [1, 1.5, 0],
      [2, 1.5, 0],
      [3, 1.5, 0],
    ];
    const b = [
      [0, 1, 0],
      [0, 1, 0],
      [0, 1, 0],
    ];
    const signs = allSignPatterns(3);
    // |mean(s·D)| of latent 0 over the 8 flips: 2, 4/3, 0, 2/3, 2/3, 0, 4/3, 2 → sorted 0 0 ⅔ ⅔ 4/3 4/3 2 2.
    const r = seedPercentileRule(a, b, { signs, percentile: 75 }); // index ⌈7·0.75⌉ = 6 → 2
    expect(r.thresholds[0]).toBeCloseTo(2, 14);
    expect(Array.from(r.pass)).toEqual([]); // |T| = 2 ties the threshold: not above it
    const lower = seedPercentileRule(a, b, { signs, percentile: 50 }); // index ⌈3.5⌉ = 4 → 4/3
    expect(lower.thresholds[0]).toBeCloseTo(4 / 3, 14);
    expect(Array.from(lower.pass)).toEqual([0, 1]);
    expect(lower.thresholds[2]).toBe(0);
    expect(pairedMaxT(a, b, { signs }).degenerate).toEqual(Int32Array.from([1]));
  });
});

describe("trackAProjection", () => {
  // 6 latents in 3 dimensions; row 5 is dead.
  const decoder = matrix([
    [2, 0, 0],
    [0, 3, 0],
    [0, 0, 1],
    [1, 1, 0],
    [0, -1, 1],
    [0, 0, 0],
  ]);
  const delta = [3, -1, 0.5];

  it("T, signed projections and p by hand, with explicit null sets", () => {
    const r = trackAProjection(delta, decoder, [0, 1], {
      nullSets: [
        [2, 3],
        [3, 4],
        [2, 4],
      ],
    });
    expect(Array.from(r.projections)).toEqual([3, -1]);
    expect(r.statistic).toBe(2);
    const s2 = Math.SQRT2;
    const null_ = [(0.5 + 2 / s2) / 2, (2 / s2 + 1.5 / s2) / 2, (0.5 + 1.5 / s2) / 2];
    null_.forEach((v, i) => expect(r.nullStatistics[i]).toBeCloseTo(v, 14));
    expect(r.pValue).toBe(1 / 4); // no null set reaches T = 2
    expect([r.nPositive, r.nNegative]).toEqual([1, 1]);
    expect(r.nullMean).toBeCloseTo(null_.reduce((s, v) => s + v) / 3, 14);
    expect(() => trackAProjection(delta, decoder, [0, 1], { nullSets: [[1, 2]] })).toThrow(/not in chosen/);
    expect(() => trackAProjection(delta, decoder, [0, 1], { nullSets: [[2, 5]] })).toThrow(/dead/);
    expect(() => trackAProjection(delta, decoder, [5])).toThrow(/chosen\[0\]/);
    expect(() => trackAProjection([1, 2], decoder, [0])).toThrow(/meanDifference/);
  });

  it("drawn null sets avoid the chosen and dead latents, repeat no latent, and reproduce exactly", () => {
    const r = trackAProjection(delta, decoder, [0, 1], { nNull: 200, seed: 3 });
    expect(r.nullSets).toHaveLength(400);
    for (let s = 0; s < 200; s++) {
      const set = [r.nullSets[2 * s], r.nullSets[2 * s + 1]] as number[];
      expect(set[0]).not.toBe(set[1]);
      for (const i of set) expect([2, 3, 4]).toContain(i);
    }
    expect(r.nDeadSkipped).toBe(1); // met once, then out of the pool
    const again = trackAProjection(delta, decoder, [0, 1], { nullSets: r.nullSets });
    expect(again.nullStatistics).toEqual(r.nullStatistics);
    expect(again.pValue).toBe(r.pValue);
    expect(trackAProjection(delta, decoder, [0, 1], { nNull: 200, seed: 3 }).nullSets).toEqual(r.nullSets);
  });
  it("finds Δ̄ planted along a chosen latent's direction; float32 decoders work", () => {
    const rng = Rng.fromSeed(8);
    const d = 16;
    const rows = 300;
    const W = Float32Array.from({ length: rows * d }, () => rng.nextNormal());
    const norm = Math.hypot(...W.subarray(7 * d, 8 * d));
    const planted = Array.from({ length: d }, (_, c) => (3 * (W[7 * d + c] as number)) / norm + 0.1 * rng.nextNormal());
    const r = trackAProjection(planted, { data: W, rows, cols: d }, [7], { nNull: 499, seed: 1 });
    expect(r.pValue).toBe(1 / 500);
    expect(r.projections[0]).toBeGreaterThan(2.5);
    const unrelated = trackAProjection(planted, { data: W, rows, cols: d }, [1, 2, 3], { nNull: 499, seed: 1 });
    expect(unrelated.pValue).toBeGreaterThan(0.05);
  });
});

describe("spearmanCorrelation and correlationTest", () => {
  it("ρ with average ranks for ties, by hand", () => {
    // ranks x: 1 2 3 4 5; y = (5, 6, 7, 8, 7): ranks 1 2 3.5 5 3.5
    const rx = [1, 2, 3, 4, 5];
    const ry = [1, 2, 3.5, 5, 3.5];
    const m = 3;
    const num = rx.reduce((s, v, i) => s + (v - m) * ((ry[i] as number) - m), 0);
    const den = Math.sqrt(rx.reduce((s, v) => s + (v - m) ** 2, 0) * ry.reduce((s, v) => s + (v - m) ** 2, 0));
    expect(spearmanCorrelation([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])).toBeCloseTo(num / den, 14);
    expect(spearmanCorrelation([1, 2, 3], [3, 2, 1])).toBe(-1);
    expect(spearmanCorrelation([1, 1, 1], [3, 2, 1])).toBeNaN();
  });

  it("a monotone relation is found; results reproduce by seed and by explicit draws", () => {
    const x = [0.1, 0.2, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
    const y = x.map((v) => v ** 2 + 1);
    const r = correlationTest(x, y, { nPermutations: 999, nBootstrap: 500, seed: 2 });
    expect(r.rho).toBe(1);
    expect(r.pValue).toBeLessThan(0.01);
    expect(r.ci[0]).toBeGreaterThan(0.9);
    expect(r.ci[1]).toBe(1);
    expect(correlationTest(x, y, { nPermutations: 999, nBootstrap: 500, seed: 2 })).toEqual(r);
    const identity = Array.from({ length: 10 }, (_, i) => i);
    const fixed = correlationTest(x, y, { permutations: [...identity, ...identity.reverse()], nBootstrap: 10 });
    expect(fixed.pValue).toBe(3 / 3); // the identity and the reversal both reach |ρ| = 1
    expect(correlationTest([1, 1, 1], [1, 2, 3], { nPermutations: 5, nBootstrap: 5 }).pValue).toBeNaN();
    expect(() => correlationTest(x, y.slice(1))).toThrow(/field y/);
  });
});
