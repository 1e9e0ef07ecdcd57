import { Rng } from "@difflens/tensor";
import { describe, expect, it } from "vitest";
import { comparatorOrder, descendingOrder } from "../src/generation/descending-order.ts";
import { sampleToken, samplingDistribution } from "../src/index.ts";

/** Rows with every awkward case: ties, ±0, ±Infinity, tiny and large magnitudes, an offset into a larger buffer. */
function awkwardRows(count: number): Array<{ logits: Float32Array; offset: number; vocab: number }> {
  const rng = new Rng(5);
  return Array.from({ length: count }, (_, r) => {
    const vocab = 1 + rng.int(2000);
    const offset = rng.int(8);
    const logits = new Float32Array(offset + vocab);
    for (let i = 0; i < logits.length; i++) {
      const u = rng.nextFloat();
      logits[i] =
        r % 3 === 0
          ? (rng.nextFloat() - 0.5) * 30
          : r % 3 === 1
            ? [rng.int(5) - 2, -0, -Infinity, Infinity, (rng.nextFloat() - 0.5) * 20][Math.min(4, Math.floor(u * 6))]!
            : (rng.nextFloat() - 0.5) * 1e-30;
    }
    return { logits, offset, vocab };
  });
}

describe("descendingOrder (radix sort for sampling)", () => {
  it("equals the comparator sort: descending, ties by ascending id, −0 as +0", () => {
    for (const { logits, offset, vocab } of awkwardRows(24))
      for (const t of [1, 0.7, 1e-3])
        expect([...descendingOrder(logits, offset, vocab, t)!]).toEqual(comparatorOrder(logits, offset, vocab, t));
  });
  it("declines NaN, non-float32 logits and extreme temperatures (the comparator handles them)", () => {
    expect(descendingOrder(Float32Array.of(1, Number.NaN), 0, 2, 1)).toBeNull();
    expect(descendingOrder([1, 2], 0, 2, 1)).toBeNull();
    expect(descendingOrder(Float32Array.of(1, 2), 0, 2, 2 ** 101)).toBeNull();
  });
  it("sampling gives bit-identical distributions and tokens on float32 rows (radix) and number rows (comparator)", () => {
    for (const { logits, offset, vocab } of awkwardRows(15)) {
      const copy = Array.from(logits);
      for (const p of [
        { temperature: 1, topP: 0.95, topK: 0 },
        { temperature: 0.7, topP: 1, topK: 0 },
        { temperature: 1.3, topP: 0.5, topK: 5 },
      ]) {
        const fast = samplingDistribution(logits, offset, vocab, p);
        const reference = samplingDistribution(copy, offset, vocab, p);
        expect([...fast.ids]).toEqual([...reference.ids]);
        expect([...fast.probs]).toEqual([...reference.probs]);
        const [a, b] = [new Rng(3), new Rng(3)];
        for (let k = 0; k < 4; k++)
          expect(sampleToken(logits, offset, vocab, p, a)).toBe(sampleToken(copy, offset, vocab, p, b));
      }
    }
  });
});
