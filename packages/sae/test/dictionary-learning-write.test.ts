/**
 * writeDictionaryLearning: a BatchTopK SAE written as ae.pt + config.json (torch.save's zip layout, written by
 * writeTorchStateDict) loads back bit for bit, read entry by entry from the file, with its k and threshold.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Rng } from "@difflens/tensor";
import { afterAll, describe, expect, it } from "vitest";
import { detectSaeFormat, loadSae, readTorchStateDict, Sae, writeDictionaryLearning } from "../src/index.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dl-write-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("writeDictionaryLearning", () => {
  it("round-trips a BatchTopK SAE through ae.pt", async () => {
    const rng = new Rng(7);
    const [dIn, dSae] = [12, 40];
    const normal = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
    const weights = { wEnc: normal(dSae * dIn), bEnc: normal(dSae), wDec: normal(dSae * dIn), bDec: normal(dIn) };
    const sae = new Sae(
      { dIn, dSae, activation: { kind: "batchtopk", k: 5, threshold: 0.75, useThreshold: true } },
      weights,
    );
    const out = path.join(dir, "resid_post_layer_3", "trainer_0");
    await writeDictionaryLearning(out, sae);
    expect(detectSaeFormat(out)).toBe("dictionary_learning");
    const sd = readTorchStateDict(path.join(out, "ae.pt"));
    expect([...sd.keys()]).toEqual(["encoder.weight", "encoder.bias", "decoder.weight", "b_dec", "k", "threshold"]);
    expect(sd.get("decoder.weight")!.shape).toEqual([dIn, dSae]);
    expect(sd.get("k")).toMatchObject({ dtype: "i64", shape: [] });
    const back = await loadSae(out);
    expect(back.activation).toEqual({ kind: "batchtopk", k: 5, threshold: 0.75, useThreshold: true });
    for (const key of ["wEnc", "bEnc", "wDec", "bDec"] as const) expect(back.weights[key]).toEqual(weights[key]);
    const topk = await loadSae(out, { batchTopKUseThreshold: false });
    expect(topk.activation).toMatchObject({ kind: "batchtopk", useThreshold: false });
  });
});
