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
  it("a far tail (> 40 nats below the best) left out of the sort changes no bit of the distribution or the tokens", () => {
    const rng = new Rng(11);
    /** The comparator's order and HF's warpers over the whole vocabulary: the reference the head must match. */
    const reference = (logits: Float32Array, p: { temperature: number; topP: number; topK: number }) => {
      const order = comparatorOrder(logits, 0, logits.length, p.temperature);
      const max = logits[order[0]!]! / p.temperature;
      const keepK = p.topK > 0 ? Math.min(p.topK, order.length) : order.length;
      const exp = order.slice(0, keepK).map((id) => Math.exp(logits[id]! / p.temperature - max));
      const total = exp.reduce((a, b) => a + b, 0);
      let kept = 0;
      for (let before = 0; kept < keepK && (kept === 0 || before < p.topP); kept++) before += exp[kept]! / total;
      const keptTotal = exp.slice(0, kept).reduce((a, b) => a + b, 0);
      return { ids: order.slice(0, kept), probs: exp.slice(0, kept).map((e) => e / keptTotal) };
    };
    for (let row = 0; row < 12; row++) {
      const vocab = 5000;
      // a few answer-like tokens near 60 (ties among them), everything else 0 or a far-below noise
      const logits = Float32Array.from({ length: vocab }, (_, i) =>
        i % 613 === 0 ? 60 + (row % 2 ? rng.int(3) : (rng.nextFloat() - 0.5) * 6) : row % 3 ? 0 : rng.nextFloat() * 10,
      );
      for (const p of [
        { temperature: 1, topP: 0.95, topK: 0 },
        { temperature: 0.8, topP: 0.5, topK: 3 },
        { temperature: 1.2, topP: 0.999, topK: 0 },
      ]) {
        const got = samplingDistribution(logits, 0, vocab, p);
        const want = reference(logits, p);
        expect([...got.ids]).toEqual(want.ids);
        expect([...got.probs]).toEqual(want.probs);
      }
    }
  });
});
