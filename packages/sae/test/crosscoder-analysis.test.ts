import { Rng } from "@difflens/tensor";
import { describe, expect, it } from "vitest";
import {
  decoderCosines,
  latentsByBand,
  normBand,
  relativeDecoderNorms,
  relativeNormHistogram,
} from "../src/crosscoder/analysis.ts";
import { selectAcrossBatch } from "../src/crosscoder/batch-topk.ts";
import { Crosscoder } from "../src/crosscoder/crosscoder.ts";
import { isChatSpecific, latentScaling } from "../src/crosscoder/latent-scaling.ts";
import { pairedArraySource } from "../src/crosscoder/paired-source.ts";

const D = 4;
const unit = (i: number) => Float32Array.from({ length: D }, (_, q) => (q === i ? 1 : 0));

/**
 * A hand-built L1-kind crosscoder (every positive code kept) over dIn = 4 with three latents:
 *   0: chat-only, d^chat = e0, d^base = 0, reads the chat e0 coordinate;
 *   1: shared, d^base = d^chat = e1, reads both e1 coordinates (½ each);
 *   2: shared direction, changed magnitude: d^base = e2, d^chat = 3·e2 (relative norm 0.75), reads chat e2 / 3.
 */
function handBuilt(): Crosscoder {
  const S = 3,
    w = 2 * D;
  const wEnc = new Float32Array(S * w),
    wDec = new Float32Array(S * w);
  wEnc[0 * w + D + 0] = 1;
  wDec.set(unit(0), 0 * w + D);
  wEnc[1 * w + 1] = 0.5;
  wEnc[1 * w + D + 1] = 0.5;
  wDec.set(unit(1), 1 * w);
  wDec.set(unit(1), 1 * w + D);
  wEnc[2 * w + D + 2] = 1 / 3;
  wDec.set(unit(2), 2 * w);
  wDec.set(
    unit(2).map((v) => 3 * v),
    2 * w + D,
  );
  return new Crosscoder(
    { dIn: D, dSae: S, kind: "l1", k: 1, threshold: null, hookName: null },
    { wEnc, bEnc: new Float32Array(S), wDec, bDec: new Float32Array(w) },
  );
}

describe("crosscoder analysis", () => {
  it("relative decoder norms, bands, histogram and shared-latent cosines", () => {
    const cc = handBuilt();
    const rel = relativeDecoderNorms(cc);
    expect(Array.from(rel)).toEqual([1, 0.5, 0.75]);
    expect(latentsByBand(rel)).toEqual({ "base-only": [], shared: [1], "chat-only": [0], other: [2] });
    expect(normBand(0.05)).toBe("base-only");
    expect(normBand(0.3, { baseOnlyMax: 0.1, sharedMin: 0.3, sharedMax: 0.7, chatOnlyMin: 0.9 })).toBe("shared");
    const h = relativeNormHistogram(rel, 4);
    expect(h.counts).toEqual([0, 0, 1, 2]); // 0.5 → bin 2; 0.75 and 1 → bin 3
    expect(h.edges).toEqual([0, 0.25, 0.5, 0.75, 1]);
    const cos = decoderCosines(cc, [1, 2, 0]);
    expect(cos[0]).toBeCloseTo(1, 12);
    expect(cos[1]).toBeCloseTo(1, 12);
    expect(cos[2]).toBeNaN(); // chat-only: no base decoder
  });

  it("Latent Scaling: β and ν on data where the answer is known", async () => {
    // Chat rows hold c·e0 (latent 0) and s·e1 (latent 1) plus noise on e3 (no latent reads or writes it); the base
    // rows hold γ·c·e0 — the chat-only latent's direction is present in the base model at a fraction γ it does not
    // reconstruct — and s·e1. Expected: latent 0 has β^ε,base = γ, β^ε,chat = 1, β^r,base = 0, β^r,chat = 1, so
    // ν^ε = γ and ν^r = 0; the shared latent 1 has every β = 1 and ν = 1.
    const cc = handBuilt();
    const rng = new Rng(7);
    const rows = 200,
      gamma = 0.3;
    const base = new Float32Array(rows * D),
      chat = new Float32Array(rows * D);
    for (let r = 0; r < rows; r++) {
      const c = rng.nextFloat() < 0.5 ? 1 + 2 * rng.nextFloat() : 0;
      const s = 0.5 + rng.nextFloat();
      const noise = rng.normal();
      chat[r * D + 0] = c;
      base[r * D + 0] = Math.fround(gamma * c);
      chat[r * D + 1] = s;
      base[r * D + 1] = s;
      chat[r * D + 3] = noise;
      base[r * D + 3] = noise;
    }
    const [chatOnly, shared] = await latentScaling(cc, pairedArraySource(base, chat, D, 64), [0, 1]);
    expect(chatOnly!.count).toBeGreaterThan(50);
    expect(chatOnly!.betaError.base).toBeCloseTo(gamma, 6);
    expect(chatOnly!.betaError.chat).toBeCloseTo(1, 6);
    expect(chatOnly!.betaReconstruction.base).toBeCloseTo(0, 12);
    expect(chatOnly!.betaReconstruction.chat).toBeCloseTo(1, 6);
    expect(chatOnly!.nuError).toBeCloseTo(gamma, 6);
    expect(chatOnly!.nuReconstruction).toBeCloseTo(0, 12);
    expect(isChatSpecific(chatOnly!)).toBe(true);
    expect(shared!.count).toBe(rows);
    for (const v of [shared!.betaError.base, shared!.betaError.chat, shared!.nuError, shared!.nuReconstruction])
      expect(v).toBeCloseTo(1, 6);
    expect(isChatSpecific(shared!)).toBe(false);
  });
});

describe("BatchTopK selection across the batch", () => {
  /** Brute force: the m largest positive scores of the full [rows, n] matrix (ties in row-major order). */
  function bruteCounts(full: Float32Array, rows: number, n: number, m: number): number[] {
    const order = Array.from(full.keys())
      .filter((i) => full[i]! > 0)
      .sort((a, b) => full[b]! - full[a]! || a - b)
      .slice(0, m);
    const counts = new Array<number>(rows).fill(0);
    for (const i of order) counts[Math.floor(i / n)]! += 1;
    return counts;
  }

  it("equals a selection over the full scores, widening rows that fill their candidate lists", () => {
    const rng = new Rng(3);
    const rows = 12,
      n = 30,
      k = 3;
    for (let trial = 0; trial < 20; trial++) {
      // One loud row (it takes many of the batch's slots), some negatives, a few exact ties.
      const full = Float32Array.from({ length: rows * n }, (_, i) => {
        const loud = Math.floor(i / n) === trial % rows ? 4 : 1;
        return Math.round(rng.normal() * 8) * 0.125 * loud;
      });
      let width = k;
      let cand = candidates(full, rows, n, width);
      let sel = selectAcrossBatch(cand, rows, width, rows * k, n);
      while (sel.saturated.length > 0) {
        width = Math.min(n, width * 2);
        cand = candidates(full, rows, n, width);
        sel = selectAcrossBatch(cand, rows, width, rows * k, n);
      }
      const want = bruteCounts(full, rows, n, rows * k);
      expect(Array.from(sel.counts)).toEqual(want);
      expect(sel.selected).toBe(want.reduce((a, b) => a + b, 0));
    }
  });

  /** Each row's `width` best scores, sorted best first (ties lower index first), as biasTopK writes them. */
  function candidates(full: Float32Array, rows: number, n: number, width: number): Float32Array {
    const out = new Float32Array(rows * width);
    for (let r = 0; r < rows; r++) {
      const row = Array.from(full.subarray(r * n, (r + 1) * n)).sort((a, b) => b - a);
      out.set(row.slice(0, width), r * width);
    }
    return out;
  }
});
