import { describe, expect, it } from "vitest";
import {
  binomialTest,
  contiguousWindows,
  differentialFeatures,
  diffOfDiffs,
  longestWindow,
  type Matrix,
  meanSemByColumn,
  pairedDz,
  projectionVsRandomDirections,
  quantile,
  Rng,
  StatsError,
  sem,
  signBalanceTest,
} from "../src/index.ts";
import { loadReference } from "./helpers.ts";

const ref = loadReference();

function randomMatrix(rng: Rng, rows: number, cols: number, scale = 1): Float64Array {
  return Float64Array.from({ length: rows * cols }, () => rng.nextNormal() * scale);
}

describe("projectionVsRandomDirections (seed 000 Track A)", () => {
  const rng = Rng.fromSeed(1);
  const nFeatures = 400;
  const d = 24;
  const dict: Matrix = { data: randomMatrix(rng, nFeatures, d), rows: nFeatures, cols: d };
  const row = (i: number) => Array.from({ length: d }, (_, j) => dict.data[i * d + j] as number);
  const unit = (v: number[]) => {
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  };
  const chosen = [3, 50, 77, 120, 301];

  it("finds a difference built from the chosen directions; projections are exact dot products with unit rows", () => {
    const diff = Array.from(
      { length: d },
      (_, j) => chosen.reduce((s, i) => s + 2 * (unit(row(i))[j] as number), 0) + 0.05 * rng.nextNormal(),
    );
    const r = projectionVsRandomDirections(diff, dict, chosen, { nPermutations: 999, seed: 4 });
    expect(r.pValue).toBe(1 / 1000);
    for (const p of r.projections) {
      const u = unit(row(p.index));
      expect(p.projection).toBeCloseTo(
        u.reduce((s, x, j) => s + x * (diff[j] as number), 0),
        12,
      );
    }
    expect(r.positive).toBe(5);
    expect(r.statistic).toBeGreaterThan(r.nullMean + 3 * r.nullSd);
  });

  it("a difference unrelated to the chosen rows is not significant (seed 000: p = 0.74); reproducible by seed", () => {
    const diff = Array.from({ length: d }, () => rng.nextNormal());
    const a = projectionVsRandomDirections(diff, dict, chosen, { nPermutations: 500, seed: 9 });
    const b = projectionVsRandomDirections(diff, dict, chosen, { nPermutations: 500, seed: 9 });
    expect(a.pValue).toBe(b.pValue);
    expect(a.pValue).toBeGreaterThan(0.01);
    expect(a.positive + a.negative).toBe(5);
  });

  it("rejects a dictionary of the wrong width and out-of-range or duplicate indices", () => {
    expect(() => projectionVsRandomDirections(new Array(d + 1).fill(1), dict, chosen)).toThrow(
      /dModel|difference's length/,
    );
    expect(() => projectionVsRandomDirections(new Array(d).fill(1), dict, [1, 1])).toThrow(StatsError);
    expect(() => projectionVsRandomDirections(new Array(d).fill(1), dict, [nFeatures])).toThrow(/row indices/);
  });
});

describe("differentialFeatures (seed 000 Track B)", () => {
  const nPrompts = 40;
  const nFeatures = 120;
  const rng = Rng.fromSeed(2);
  const a = randomMatrix(rng, nPrompts, nFeatures);
  const b = randomMatrix(rng, nPrompts, nFeatures);
  for (let i = 0; i < nPrompts; i++) {
    a[i * nFeatures + 3] = (a[i * nFeatures + 3] as number) + 1.5;
    a[i * nFeatures + 17] = (a[i * nFeatures + 17] as number) - 1.2;
    // Feature 42: deterministic, identical across prompts (seed 000's std = 0 situation), higher in a.
    a[i * nFeatures + 42] = 2;
    b[i * nFeatures + 42] = 0.5;
    // Feature 60: never active in either condition.
    a[i * nFeatures + 60] = 0;
    b[i * nFeatures + 60] = 0;
  }
  const A: Matrix = { data: a, rows: nPrompts, cols: nFeatures };
  const B: Matrix = { data: b, rows: nPrompts, cols: nFeatures };

  it("max-statistic threshold finds the planted features and flags the zero-variance one", () => {
    const r = differentialFeatures(A, B, { nPermutations: 400, seed: 3 });
    const found = r.significant.map((s) => s.index).sort((x, y) => x - y);
    expect(found).toEqual([3, 17, 42]);
    const f42 = r.significant.find((s) => s.index === 42);
    expect(f42?.degenerate).toBe("zero-variance");
    expect(f42?.effectSize).toBeNaN();
    expect(f42?.meanDifference).toBeCloseTo(1.5, 14);
    expect(r.zeroVarianceFeatures).toEqual([42]);
    expect(r.nSignificantNonDegenerate).toBe(2);
    expect(r.note).toMatch(/zero variance/);
    expect(r.nActive).toBe(nFeatures - 1);
    expect(r.pValue[60]).toBe(1);
    expect(r.significant[0]?.index).toBe(42); // sorted by |mean difference|
    expect(r.pMaxAdjusted[3]).toBe(1 / 401);
    const col = (m: Float64Array, f: number) =>
      Array.from({ length: nPrompts }, (_, i) => m[i * nFeatures + f] as number);
    expect(r.effectSize[3]).toBeCloseTo(pairedDz(col(a, 3), col(b, 3)).value, 12);
  });

  it("percentile thresholds equal numpy-linear percentiles of each feature's own sign-flip null", () => {
    const m = 60;
    const r = differentialFeatures(A, B, { nPermutations: m, threshold: "percentile", percentile: 90, seed: 8 });
    // Rebuild the null with the documented scheme: permutation r draws ⌈n/32⌉ uint32; bit b flips row 32k + b.
    const gen = Rng.fromSeed(8);
    const nulls = Array.from({ length: nFeatures }, () => [] as number[]);
    for (let p = 0; p < m; p++) {
      const s: number[] = [];
      for (let i = 0; i < nPrompts; i += 32) {
        const bits = gen.nextUint32();
        for (let k = 0; k < 32 && i + k < nPrompts; k++) s.push((bits >>> k) & 1 ? -1 : 1);
      }
      for (let f = 0; f < nFeatures; f++) {
        let t = 0;
        for (let i = 0; i < nPrompts; i++)
          t += (s[i] as number) * ((a[i * nFeatures + f] as number) - (b[i * nFeatures + f] as number));
        nulls[f]!.push(Math.abs(t / nPrompts));
      }
    }
    for (const f of [0, 3, 17, 42, 99]) expect(r.thresholds[f]).toBeCloseTo(quantile(nulls[f]!, 0.9), 12);
  });

  it("independent design with unequal group sizes", () => {
    const r = differentialFeatures({ data: a.subarray(0, 30 * nFeatures), rows: 30, cols: nFeatures }, B, {
      design: "independent",
      nPermutations: 300,
      seed: 1,
    });
    expect(r.significant.map((s) => s.index)).toEqual(expect.arrayContaining([3, 17, 42]));
    expect(() => differentialFeatures({ data: a.subarray(0, 30 * nFeatures), rows: 30, cols: nFeatures }, B)).toThrow(
      /paired/,
    );
  });
});

describe("sign balance, contiguous windows and diff-of-diffs (seed 001)", () => {
  it("10 of 28 layers positive is not distinguishable from 50/50 (scipy binomtest p)", () => {
    const values = Array.from({ length: 28 }, (_, i) => (i < 10 ? 0.004 : -0.003));
    const r = signBalanceTest(values);
    const scipy = ref.binomtest.find(
      (c: { k: number; n: number; alternative: string }) => c.k === 10 && c.n === 28 && c.alternative === "two-sided",
    );
    expect(r.positive).toBe(10);
    expect(r.pValue).toBeCloseTo(scipy.pvalue, 12);
    expect(r.pValue).toBeGreaterThan(0.05);
    expect(signBalanceTest([0.1, 0.0005, -0.2], { tolerance: 0.001 }).ties).toBe(1);
  });

  it("sign balance: all values within the tolerance is degenerate (p NaN), not an error", () => {
    const r = signBalanceTest([0, 1e-10, -1e-10], { tolerance: 1e-9 });
    expect(r).toMatchObject({ positive: 0, negative: 0, ties: 3, degenerate: "all-zero-differences" });
    expect(r.pValue).toBeNaN();
    const zeros = [
      [0, 0],
      [0, 0],
    ];
    const dd = diffOfDiffs(zeros, zeros, zeros, zeros, { signTolerance: 1e-9 });
    expect(dd.signBalance.degenerate).toBe("all-zero-differences");
    expect(diffOfDiffs([[1e-10, 1]], [[0, 0]], [[0, 0]], [[0, 0]], { signTolerance: 1e-9 }).signBalance.ties).toBe(1);
  });

  it("windows: villain-style [8, 10] ∪ [12, 27]; minLength; label gaps break runs", () => {
    const flags = Array.from({ length: 28 }, (_, l) => (l >= 8 && l <= 10) || l >= 12);
    expect(contiguousWindows(flags)).toEqual([
      { start: 8, end: 10, length: 3 },
      { start: 12, end: 27, length: 16 },
    ]);
    expect(contiguousWindows(flags, { minLength: 4 })).toEqual([{ start: 12, end: 27, length: 16 }]);
    expect(longestWindow(flags)).toEqual({ start: 12, end: 27, length: 16 });
    expect(contiguousWindows([true, true, true], { labels: [7, 11, 12] })).toEqual([
      { start: 7, end: 7, length: 1 },
      { start: 11, end: 12, length: 2 },
    ]);
    expect(contiguousWindows([false, false])).toEqual([]);
  });

  it("diff-of-diffs: per-layer mean ± SEM of (aM − aC) − (bM − bC), extremes and sign balance", () => {
    const rng = Rng.fromSeed(5);
    const n = 12;
    const L = 6;
    const mk = () => Array.from({ length: n }, () => Array.from({ length: L }, () => rng.nextNormal()));
    const [am, ac, bm, bc] = [mk(), mk(), mk(), mk()];
    const r = diffOfDiffs(am, ac, bm, bc, { layers: [10, 11, 12, 13, 14, 15] });
    for (let l = 0; l < L; l++) {
      const col = Array.from({ length: n }, (_, i) => am[i]![l]! - ac[i]![l]! - (bm[i]![l]! - bc[i]![l]!));
      expect(r.perLayer[l]?.mean).toBeCloseTo(col.reduce((s, v) => s + v, 0) / n, 12);
      expect(r.perLayer[l]?.sem).toBeCloseTo(sem(col), 12);
    }
    const means = r.perLayer.map((c) => c.mean);
    expect(r.max.value).toBe(Math.max(...means));
    expect(r.max.layer).toBe(10 + means.indexOf(Math.max(...means)));
    expect(r.signBalance.positive).toBe(means.filter((v) => v > 0).length);
    expect(r.signBalance.pValue).toBeCloseTo(binomialTest(r.signBalance.positive, L).pValue, 15);
    expect(
      meanSemByColumn([
        [1, 2],
        [3, 2],
      ]),
    ).toEqual([
      { mean: 2, sem: 1, n: 2, semExcludesZero: true },
      { mean: 2, sem: 0, n: 2, semExcludesZero: true },
    ]);
    expect(() => diffOfDiffs(am, ac, bm, bc.slice(1))).toThrow(/bControl/);
  });
});
