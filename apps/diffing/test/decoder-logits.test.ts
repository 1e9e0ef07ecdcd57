import { Rng, Tensor, useBackend } from "@difflens/tensor";
import { beforeAll, describe, expect, test } from "vitest";
import { decoderLogits } from "../src/features/decoder-logits.ts";

/** W_dec[i] · W_Uᵀ in float64, plain loops: the reference the chunked GEMM + top-k must match. */
function float64Logits(wDec: Float32Array, unembedding: Float32Array, latent: number, dModel: number): Float64Array {
  const vocab = unembedding.length / dModel;
  const out = new Float64Array(vocab);
  for (let v = 0; v < vocab; v++) {
    let acc = 0;
    for (let d = 0; d < dModel; d++) acc += wDec[latent * dModel + d]! * unembedding[v * dModel + d]!;
    out[v] = acc;
  }
  return out;
}

describe("decoderLogits", () => {
  beforeAll(() => {
    useBackend("auto");
  });

  test("matches a float64 reference for every latent, across chunk boundaries", async () => {
    const rng = new Rng(3);
    const [dSae, dModel, vocab, topN] = [11, 16, 997, 7];
    const wDec = Float32Array.from({ length: dSae * dModel }, () => rng.normal());
    const wU = Float32Array.from({ length: vocab * dModel }, () => rng.normal() * 0.1);
    const got = await decoderLogits(wDec, dSae, new Tensor("f32", [vocab, dModel], wU), topN, 4);
    for (let i = 0; i < dSae; i++) {
      const ref = float64Logits(wDec, wU, i, dModel);
      const order = [...ref.keys()].sort((a, b) => ref[b]! - ref[a]!);
      const pos = Array.from(got.positiveIds.subarray(i * topN, (i + 1) * topN));
      const neg = Array.from(got.negativeIds.subarray(i * topN, (i + 1) * topN));
      expect(pos).toEqual(order.slice(0, topN));
      expect(neg).toEqual(order.slice(-topN).reverse());
      for (let j = 0; j < topN; j++) {
        expect(got.positiveValues[i * topN + j]).toBeCloseTo(ref[pos[j]!]!, 4);
        expect(got.negativeValues[i * topN + j]).toBeCloseTo(ref[neg[j]!]!, 4);
      }
    }
  });

  test("refuses a decoder of the wrong size, naming both", async () => {
    const wU = new Tensor("f32", [5, 4], new Float32Array(20));
    await expect(decoderLogits(new Float32Array(10), 3, wU)).rejects.toThrow(/dSae 3 × dModel 4/);
  });
});
