import { Tensor } from "@difflens/tensor";
import { describe, expect, it } from "vitest";
import { Sae } from "../src/sae.ts";
import { type SpliceModel, spliceMetrics } from "../src/splice.ts";
import { expectClose } from "./helpers.ts";

/** A fake model: embedding → hook → linear unembedding. Logits = acts · U. */
function fakeModel(dIn: number, vocab: number): SpliceModel {
  const emb = Float32Array.from({ length: vocab * dIn }, (_, i) => Math.sin(i * 1.3) * 2);
  const unemb = Float32Array.from({ length: dIn * vocab }, (_, i) => Math.cos(i * 0.7));
  return {
    hookName: "blocks.0.hook_resid_pre",
    dIn,
    async logits(tokens, patch) {
      let acts: Tensor = new Tensor("f32", [tokens.length, dIn], new Float32Array(tokens.length * dIn));
      for (let t = 0; t < tokens.length; t++)
        (acts.data as Float32Array).set(emb.subarray(tokens[t]! * dIn, (tokens[t]! + 1) * dIn), t * dIn);
      if (patch) acts = patch(acts);
      const out = new Float32Array(tokens.length * vocab);
      for (let t = 0; t < tokens.length; t++)
        for (let v = 0; v < vocab; v++) {
          let s = 0;
          for (let i = 0; i < dIn; i++) s += (acts.data as Float32Array)[t * dIn + i]! * unemb[i * vocab + v]!;
          out[t * vocab + v] = s;
        }
      return new Tensor("f32", [tokens.length, vocab], out);
    },
  };
}

describe("spliceMetrics", () => {
  const dIn = 4,
    vocab = 5;
  const seqs = [Int32Array.from([0, 1, 2, 3, 4]), Int32Array.from([4, 2, 0])];
  it("an identity SAE recovers all CE and has zero KL", async () => {
    // dSae = 2·dIn: latents ±eᵢ, ReLU — reconstructs any x exactly.
    const wEnc = new Float32Array(8 * dIn),
      wDec = new Float32Array(8 * dIn);
    for (let i = 0; i < dIn; i++) {
      wEnc[i * dIn + i] = 1;
      wDec[i * dIn + i] = 1;
      wEnc[(i + dIn) * dIn + i] = -1;
      wDec[(i + dIn) * dIn + i] = -1;
    }
    const sae = new Sae(
      { dIn, dSae: 8, activation: { kind: "relu" } },
      { wEnc, bEnc: new Float32Array(8), wDec, bDec: new Float32Array(dIn) },
    );
    const m = await spliceMetrics(fakeModel(dIn, vocab), sae, seqs);
    expect(m.tokens).toBe(6);
    expectClose(m.ceSpliced, m.ceClean, { rtol: 1e-5 });
    expectClose(m.ceRecovered, 1, { rtol: 1e-4 });
    expect(m.klSpliced).toBeLessThan(1e-9);
  });
  it("a zero SAE scores like zero ablation (CE recovered 0)", async () => {
    const sae = new Sae(
      { dIn, dSae: 2, activation: { kind: "topk", k: 1 } },
      {
        wEnc: new Float32Array(2 * dIn),
        bEnc: new Float32Array(2),
        wDec: new Float32Array(2 * dIn),
        bDec: new Float32Array(dIn),
      },
    );
    const m = await spliceMetrics(fakeModel(dIn, vocab), sae, seqs);
    expectClose(m.ceSpliced, m.ceZeroAblated, { rtol: 1e-6 });
    expectClose(m.ceRecovered, 0, { atol: 1e-6 });
    expect(m.klSpliced).toBeGreaterThan(0);
    expect(m.ceZeroAblated).toBeCloseTo(Math.log(vocab), 5);
  });
});
