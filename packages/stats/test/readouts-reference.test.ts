import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { correlationTest, type Matrix, pairedMaxT, seedPercentileRule, trackAProjection } from "../src/index.ts";

// Written by tools/reference/readouts/make_tracks_input.py and tracks_reference.py (numpy, from issue 17's text).
const read = (name: string) =>
  JSON.parse(readFileSync(new URL(`./fixtures/readouts/${name}`, import.meta.url), "utf8"));
const input = read("tracks-input.json");
const reference = read("tracks-reference.json");
const NaNs = (xs: (number | null)[]) => xs.map((v) => (v === null ? NaN : v)); // the reference writes NaN as null

function matrix(rows: number[][]): Matrix {
  return { data: Float64Array.from(rows.flat()), rows: rows.length, cols: (rows[0] as number[]).length };
}
function expectAllClose(actual: ArrayLike<number>, expected: number[], label: string, tol = 1e-9): void {
  expect(actual.length, label).toBe(expected.length);
  expected.forEach((e, i) => {
    const a = actual[i] as number;
    if (Number.isNaN(e)) expect(a, `${label}[${i}]`).toBeNaN();
    else if (!(Math.abs(a - e) <= tol)) throw new Error(`${label}[${i}]: ${a} vs numpy ${e}`);
  });
}

describe("issue 17 statistics against the numpy reference (same null sets, flips, permutations, resamples)", () => {
  it("Track A", () => {
    const { meanDifference, decoder, chosen, nullSets } = input.trackA;
    const r = trackAProjection(meanDifference, matrix(decoder), chosen, { nullSets });
    const e = reference.trackA;
    expectAllClose([r.statistic, r.nullMean, r.pValue], [e.statistic, e.nullMean, e.pValue], "T, null mean, p");
    expectAllClose(r.projections, e.projections, "projections");
    expectAllClose(r.nullStatistics, e.nullStatistics, "null");
    expect([r.nPositive, r.nNegative]).toEqual([e.nPositive, e.nNegative]);
    expect(Array.from(r.nullSets)).toEqual(nullSets.flat());
    expect(trackAProjection(meanDifference, matrix(decoder), chosen, { nullSets: nullSets.flat() }).pValue).toBe(
      r.pValue,
    );
  });

  it("Track B: t, d_z, per-feature and family-wise p; degenerate and inactive latents", () => {
    const { a, b, signs, alpha } = input.trackB;
    const r = pairedMaxT(matrix(a), matrix(b), { signs: signs.flat(), alpha });
    const e = reference.trackB;
    for (const key of ["t", "dz", "meanDifference", "pPerFeature", "pFamilywise", "maxNull"] as const)
      expectAllClose(r[key], NaNs(e[key]), key);
    expect(Array.from(r.degenerate)).toEqual(e.degenerate);
    expect([r.nInactive, r.nActive, r.nDegenerate]).toEqual([e.nInactive, e.nActive, e.degenerate.length]);
    expect(Array.from(r.passFamilywise)).toEqual(e.passFamilywise);
    expect(Array.from(r.passPerFeature)).toEqual(e.passPerFeature);
    expect(Array.from(r.signs)).toEqual(signs.flat());
    expect(r.allDegenerate).toBe(false);
  });

  it("the seed's percentile rule (numpy 'higher')", () => {
    const { a, b, signs, percentiles } = input.trackB;
    reference.trackB.seedRule.forEach((e: { percentile: number; thresholds: number[]; pass: number[] }, i: number) => {
      const r = seedPercentileRule(matrix(a), matrix(b), { signs: signs.flat(), percentile: percentiles[i] });
      expectAllClose(r.thresholds, e.thresholds, `thresholds at ${e.percentile}`);
      expect(Array.from(r.pass), `pass at ${e.percentile}`).toEqual(e.pass);
    });
  });

  it("Spearman ρ, permutation p and bootstrap interval", () => {
    const { x, y, permutations, bootstrapIndices, confidence } = input.correlation;
    const r = correlationTest(x, y, {
      permutations: permutations.flat(),
      bootstrapIndices: bootstrapIndices.flat(),
      confidence,
    });
    const e = reference.correlation;
    expectAllClose([r.rho, r.pValue, ...r.ci], [e.rho, e.pValue, ...e.ci], "rho, p, ci");
    expect(r.nBootstrapUsed).toBe(e.nBootstrapUsed);
  });
});
