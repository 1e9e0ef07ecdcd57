import { describe, expect, it } from "vitest";
import {
  adjustPValues,
  assertNotDegenerate,
  cohensD,
  cosineSimilarity,
  hedgesG,
  mean,
  pairedDz,
  pairedTTest,
  quantile,
  resolveTTestOptions,
  StatsError,
  signFlipPermutationTest,
  signTest,
  twoSamplePermutationTest,
  variance,
  welchTTest,
  wilcoxonSignedRank,
} from "../src/index.ts";

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof StatsError) return e.code;
    throw e;
  }
  return undefined;
}

describe("zero variance is reported, never a p of 0 or a bare NaN (seed 000's std = 0 case)", () => {
  const same = [0.7, 0.7, 0.7, 0.7];
  const other = [0.2, 0.2, 0.2, 0.2];
  it("t-tests", () => {
    const w = welchTTest(same, other);
    expect(w.degenerate).toBe("zero-variance");
    expect(w.pValue).toBeNaN();
    expect(w.estimate).toBeCloseTo(0.5, 15);
    expect(w.note).toMatch(/zero variance/);
    const p = pairedTTest(same, other);
    expect(p.degenerate).toBe("zero-variance");
    expect(() => assertNotDegenerate(p, "pairedTTest")).toThrow(/zero variance/);
    expect(codeOf(() => assertNotDegenerate(p))).toBe("DEGENERATE");
    // One constant sample is fine for Welch: the other carries the variance.
    expect(welchTTest(same, [0.1, 0.3, 0.2, 0.25]).degenerate).toBeUndefined();
  });
  it("effect sizes keep the raw difference and say why the standardized one is missing", () => {
    for (const e of [cohensD(same, other), hedgesG(same, other), pairedDz(same, other)]) {
      expect(e.degenerate).toBe("zero-variance");
      expect(e.value).toBeNaN();
      expect(e.meanDifference).toBeCloseTo(0.5, 15);
    }
  });
  it("Wilcoxon, sign and permutation tests on all-zero / constant data", () => {
    expect(wilcoxonSignedRank([1, 2, 3], [1, 2, 3]).degenerate).toBe("all-zero-differences");
    expect(signTest([0, 0, 0]).degenerate).toBe("all-zero-differences");
    const perm = twoSamplePermutationTest([3, 3, 3], [3, 3]);
    expect(perm.degenerate).toBe("constant-statistic");
    expect(perm.pValue).toBeNaN();
    // Constant but different groups are NOT degenerate for a permutation test: the split is maximal.
    const split = twoSamplePermutationTest(same, other, undefined, { alternative: "greater" });
    expect(split.degenerate).toBeUndefined();
    expect(split.pValue).toBeCloseTo(1 / 70, 15);
    expect(
      signFlipPermutationTest([0.5, 0.5, 0.5, 0.5, 0.5], undefined, undefined, { alternative: "greater" }).pValue,
    ).toBeCloseTo(1 / 32, 15);
  });
});

describe("empty, length-1 and NaN input", () => {
  it("empty and too-small samples throw with codes", () => {
    expect(codeOf(() => mean([]))).toBe("EMPTY_SAMPLE");
    expect(codeOf(() => welchTTest([], [1, 2]))).toBe("EMPTY_SAMPLE");
    expect(codeOf(() => welchTTest([1], [1, 2]))).toBe("SAMPLE_TOO_SMALL");
    expect(codeOf(() => variance([1]))).toBe("SAMPLE_TOO_SMALL");
    expect(variance([1], 0)).toBe(0);
    expect(quantile([4], 0.3)).toBe(4);
    expect(codeOf(() => pairedTTest([1, 2], [1, 2, 3]))).toBe("LENGTH_MISMATCH");
    expect(codeOf(() => cosineSimilarity([0, 0], [1, 2]))).toBe("DEGENERATE");
    expect(cosineSimilarity([0, 0], [1, 2], { zeroNorm: "zero" })).toBe(0);
  });
  it("NaN: raise (default) names the index; omit drops it (pairs as a whole); propagate flags the result", () => {
    const err = (() => {
      try {
        welchTTest([1, NaN, 3], [1, 2]);
      } catch (e) {
        return e as StatsError;
      }
      return undefined;
    })();
    expect(err?.code).toBe("NAN_IN_DATA");
    expect(err?.facts.field).toBe("x[1]");
    expect(err?.message).toMatch(/nanPolicy/);
    const omitted = pairedTTest([1, NaN, 3, 4], [0.5, 2, 2, 3.9], { nanPolicy: "omit" });
    expect(omitted.n).toEqual([3]);
    expect(omitted.statistic).toBeCloseTo(pairedTTest([1, 3, 4], [0.5, 2, 3.9]).statistic, 14);
    const prop = welchTTest([1, NaN, 3], [1, 2], { nanPolicy: "propagate" });
    expect(prop.degenerate).toBe("nan-input");
    expect(prop.pValue).toBeNaN();
    expect(codeOf(() => mean([1, Infinity]))).toBe("INVALID_ARGUMENT");
    expect(adjustPValues([0.01, NaN, 0.04], { method: "bh", nanPolicy: "omit" })).toEqual([0.02, NaN, 0.04]);
    expect(codeOf(() => adjustPValues([0.01, NaN]))).toBe("NAN_IN_DATA");
  });
});

describe("ties", () => {
  it("Wilcoxon auto uses the tie-corrected normal approximation when |d| ties, exact otherwise", () => {
    expect(wilcoxonSignedRank([1, 2, -2, 3, 4, 5, -6, 7]).method).toBe("approx");
    const exact = wilcoxonSignedRank([1, 2.5, -2, 3, 4, 5, -6, 7]);
    expect(exact.method).toBe("exact");
    const forced = wilcoxonSignedRank([1, 2, -2, 3, 4, 5, -6, 7], undefined, { method: "exact" });
    expect(forced.method).toBe("approx");
    expect(forced.note).toMatch(/ties/);
  });
});

describe("options are validated: unknown keys get a suggestion, bad values say what was expected", () => {
  it("typo → UNKNOWN_OPTION with the nearest key", () => {
    expect(() => welchTTest([1, 2], [3, 4], { alternatve: "less" } as never)).toThrow(/did you mean "alternative"/);
    expect(codeOf(() => resolveTTestOptions({ nanpolicy: "omit" }))).toBe("UNKNOWN_OPTION");
    expect(() => resolveTTestOptions({ alternative: "bigger" })).toThrow(/one of "two-sided", "less", "greater"/);
    expect(() => resolveTTestOptions({ confidenceLevel: 95 })).toThrow(/\(0, 1\)/);
  });
  it("defaults are frozen and the caller's object is untouched", () => {
    const input = { alternative: "less" as const };
    const resolved = resolveTTestOptions(input);
    expect(Object.isFrozen(resolved)).toBe(true);
    expect(Object.isFrozen(resolveTTestOptions(undefined))).toBe(true);
    expect(input).toEqual({ alternative: "less" });
  });
});
