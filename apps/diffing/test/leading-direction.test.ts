import { Rng } from "@difflens/tensor";
import { describe, expect, it } from "vitest";
import { cosine, leadingRightSingularVector, rowCosines, symmetricEigen, twoStageRanking } from "../src/index.ts";

/** Random orthonormal columns by Gram–Schmidt in float64 (the reference construction). */
function orthonormal(rng: Rng, d: number, k: number): Float64Array[] {
  const out: Float64Array[] = [];
  while (out.length < k) {
    const v = Float64Array.from({ length: d }, () => rng.normal());
    for (const q of out) {
      const c = v.reduce((s, x, i) => s + x * q[i]!, 0);
      for (let i = 0; i < d; i++) v[i]! -= c * q[i]!;
    }
    const n = Math.hypot(...v);
    out.push(v.map((x) => x / n));
  }
  return out;
}

describe("leading direction", () => {
  it.each([
    [8, 5],
    [64, 20],
    [64, 3],
  ])("recovers the top right singular vector of X = U·diag(s)·Vᵀ (d=%i, rows=%i)", (d, rows) => {
    const rng = new Rng(d * 100 + rows);
    const v = orthonormal(rng, d, Math.min(d, rows));
    const u = orthonormal(rng, rows, Math.min(d, rows));
    const s = v.map((_, i) => 10 / (i + 1)); // distinct singular values 10, 5, 3.3, …
    const X = Array.from({ length: rows }, (_, r) => {
      const row = new Float64Array(d);
      v.forEach((vi, i) => {
        for (let j = 0; j < d; j++) row[j]! += u[i]![r]! * s[i]! * vi[j]!;
      });
      return row;
    });
    const lead = leadingRightSingularVector(X, d);
    expect(Math.abs(cosine(lead.direction, v[0]!))).toBeGreaterThan(1 - 1e-10);
    expect(lead.singularValues[0]).toBeCloseTo(10, 8);
    expect(lead.singularValues[1]).toBeCloseTo(5, 8);
    expect(lead.explained).toBeCloseTo(100 / s.reduce((t, x) => t + x * x, 0), 8);
  });

  it("eigen-decomposes a symmetric matrix: A·v = λ·v for every pair", () => {
    const d = 12,
      rng = new Rng(3);
    const a = new Float64Array(d * d);
    for (let i = 0; i < d; i++)
      for (let j = i; j < d; j++) {
        const x = rng.normal();
        a[i * d + j] = x;
        a[j * d + i] = x;
      }
    const { values, vectors } = symmetricEigen(a, d);
    for (let k = 0; k < d; k++)
      for (let i = 0; i < d; i++) {
        let av = 0;
        for (let j = 0; j < d; j++) av += a[i * d + j]! * vectors[j * d + k]!;
        expect(Math.abs(av - values[k]! * vectors[i * d + k]!)).toBeLessThan(1e-10);
      }
  });
});

describe("latent cosines and the two-stage ranking", () => {
  it("cosines rows pairwise and ranks by the smallest sum (ties by index, NaN last)", () => {
    const a = Float32Array.from([1, 0, 0, 1, 1, 0]);
    const b = Float32Array.from([1, 0, 1, 0, 0, 0]);
    const c = rowCosines(a, b, 2);
    expect(Array.from(c.slice(0, 2))).toEqual([1, 0]);
    expect(Number.isNaN(c[2]!)).toBe(true);
    expect(twoStageRanking(Float64Array.from([0.9, 0.1, NaN, 0.5]), Float64Array.from([0.9, 0.2, 0.1, 0.5]))).toEqual([
      1, 3, 0, 2,
    ]);
  });
});
