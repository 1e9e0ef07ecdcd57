import { describe, expect, it } from "vitest";
import { Rng, StatsError } from "../src/index.ts";
import { loadReference } from "./helpers.ts";

const ref = loadReference();

describe("Rng: SplitMix64-seeded xoshiro128** matches the Python transcription bit for bit", () => {
  for (const c of ref.rng) {
    it(`seed ${c.seed}`, () => {
      const rng = Rng.fromSeed(BigInt(c.seed));
      expect(rng.state()).toEqual(c.state);
      expect(Array.from({ length: 16 }, () => rng.nextUint32())).toEqual(c.u32);
      expect(Array.from({ length: 4 }, () => rng.nextFloat64())).toEqual(c.floats);
      expect([1, 2, 3, 7, 10, 1000, 2 ** 31 + 11, 2 ** 32].map((b) => rng.nextInt(b))).toEqual(c.ints);
      expect(rng.shuffle(Array.from({ length: 10 }, (_, i) => i))).toEqual(c.shuffle10);
    });
  }

  it("number and bigint seeds agree; state round-trips; split is deterministic", () => {
    expect(Rng.fromSeed(42).nextUint32()).toBe(Rng.fromSeed(42n).nextUint32());
    const a = Rng.fromSeed(7);
    a.nextUint32();
    const b = Rng.fromState(a.state());
    expect(Array.from({ length: 5 }, () => a.nextUint32())).toEqual(Array.from({ length: 5 }, () => b.nextUint32()));
    expect(Rng.fromSeed(3).split().nextUint32()).toBe(Rng.fromSeed(3).split().nextUint32());
    expect(Rng.fromSeed(3).nextUint32()).not.toBe(Rng.fromSeed(4).nextUint32());
  });

  it("outputs are uniform (chi-square on 10 bins of nextInt and of nextFloat64) and normals have mean 0, variance 1", () => {
    const rng = Rng.fromSeed(11);
    const n = 100_000;
    const bins = new Array<number>(10).fill(0);
    const fbins = new Array<number>(10).fill(0);
    for (let i = 0; i < n; i++) {
      bins[rng.nextInt(10)]! += 1;
      fbins[Math.floor(rng.nextFloat64() * 10)]! += 1;
    }
    const chi2 = (b: number[]) => b.reduce((s, o) => s + (o - n / 10) ** 2 / (n / 10), 0);
    // 9 degrees of freedom: P(chi2 > 27.9) = 0.001.
    expect(chi2(bins)).toBeLessThan(27.9);
    expect(chi2(fbins)).toBeLessThan(27.9);
    let s = 0;
    let ss = 0;
    for (let i = 0; i < n; i++) {
      const z = rng.nextNormal();
      s += z;
      ss += z * z;
    }
    expect(Math.abs(s / n)).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(ss / n - 1)).toBeLessThan(4 * Math.sqrt(2 / n));
  });

  it("rejects bad seeds and bounds with StatsError codes", () => {
    expect(() => Rng.fromSeed(-1)).toThrow(StatsError);
    expect(() => Rng.fromSeed(1.5)).toThrow(/non-negative/);
    expect(() => Rng.fromSeed(1).nextInt(0)).toThrow(/bound/);
    expect(() => Rng.fromState([0, 0, 0, 0])).toThrow(/non-zero/);
    const sample = Rng.fromSeed(5).sampleWithoutReplacement(20, 20);
    expect(new Set(sample).size).toBe(20);
  });
});
