import { readFileSync } from "node:fs";
import { Rng } from "@difflens/tensor";
import { describe, expect, it } from "vitest";
import { resolveSaeTrainConfig } from "../src/train/config.ts";
import { StepScratch, trainStep } from "../src/train/sparse-step.ts";
import { newTrainState, PARAM_NAMES, type TrainParams } from "../src/train/train-state.ts";
import { expectClose, relErr } from "./helpers.ts";

// Produced by tools/reference/sae/topk_step_reference.py (torch 1.13, dense autograd + torch.optim.Adam).
const ref = JSON.parse(readFileSync(new URL("./fixtures/topk-step-reference.json", import.meta.url), "utf8"));

function paramsFrom(rec: Record<string, number[]>): TrainParams {
  return { wEnc: Float32Array.from(rec.wEnc!), bEnc: Float32Array.from(rec.bEnc!), wDec: Float32Array.from(rec.wDec!), bDec: Float32Array.from(rec.bDec!) };
}

describe("sparse training step vs torch dense reference", () => {
  it("matches weights after 10 steps within 1e-4 and the per-step metrics", () => {
    const cfg = resolveSaeTrainConfig(ref.config);
    const state = newTrainState(paramsFrom(ref.initial), cfg, new Rng(0), ref.inputScale);
    const sc = new StepScratch();
    for (let s = 0; s < ref.metrics.length; s++) {
      const stats = trainStep(state, cfg, Float32Array.from(ref.batches[s]), ref.batchSize, sc);
      const m = ref.metrics[s];
      expect(stats.numDead).toBe(m.numDead);
      expectClose(stats.lr, m.lr, { rtol: 1e-12 });
      expectClose(stats.loss, m.loss, { rtol: 1e-4 });
      expectClose(stats.fvu, m.fvu, { rtol: 1e-4 });
      expectClose(stats.auxkLoss, m.auxkLoss, { rtol: 1e-4, atol: 1e-9 });
      expectClose(stats.l0, m.l0, { rtol: 1e-9 });
      expectClose(stats.explainedVariance, m.explainedVariance, { rtol: 1e-4, atol: 1e-6 });
      expectClose(stats.mse, m.mse, { rtol: 1e-4 });
    }
    const final = paramsFrom(ref.final);
    for (const name of PARAM_NAMES) {
      const err = relErr(state.params[name], final[name]);
      expect(err, `${name} rel err ${err}`).toBeLessThan(1e-4);
    }
    expect(Array.from(state.sinceFired)).toEqual(ref.finalSinceFired);
  });
});
