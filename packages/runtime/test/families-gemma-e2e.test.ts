/**
 * One reduced end-to-end run per Gemma family: a random toy model (sliding window shorter than the prompts, a final
 * soft-cap) → harvest at a residual hook → a few TopK SAE steps → a readout (the logit lens of an SAE latent and of
 * the last residual, which must equal the model's own logits: the final soft-cap is part of the unembedding).
 */
import { initParams, newTrainState, resolveSaeTrainConfig, StepScratch, trainStep } from "@difflens/sae";
import { Rng, Tensor, toFloat32Array, useBackend } from "@difflens/tensor";
import { describe, expect, it } from "vitest";
import { createRandomModel, harvest, logitLens } from "../src/index.ts";
import { relErr } from "./helpers.ts";

const HOOK = "blocks.1.hook_resid_mid";
const CAP = 4;

describe.each(["gemma2", "gemma3"])("%s end to end (toy model → harvest → SAE → readout)", (architecture) => {
  it("harvests, trains a few SAE steps with falling loss, and reads a latent out through the logit lens", async () => {
    useBackend("js");
    const model = createRandomModel({
      config: {
        architecture,
        vocabSize: 64,
        dModel: 16,
        nLayers: 2,
        nHeads: 2,
        nKvHeads: 1,
        dHead: 8,
        dMlp: 32,
        slidingWindow: 4,
        finalLogitSoftcap: CAP,
      },
      seed: 7,
    });
    const prompts = Array.from({ length: 4 }, (_, i) =>
      Array.from({ length: 2 }, (_, r) => Array.from({ length: 12 }, (_, s) => (i * 31 + r * 7 + s * s * 5) % 64)),
    );
    const parts: Float32Array[] = [];
    for await (const rows of harvest(model, HOOK, prompts)) parts.push(toFloat32Array(rows));
    const d = model.config.dModel;
    const x = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      x.set(p, at);
      at += p.length;
    }
    expect(x.length).toBe(4 * 2 * 12 * d);

    const cfg = resolveSaeTrainConfig({ dIn: d, dSae: 32, k: 4, lr: 1e-2, lrWarmupSteps: 1, hookName: HOOK });
    const rng = new Rng(1);
    const state = newTrainState(initParams(d, 32, rng, new Float32Array(d)), cfg, rng);
    const sc = new StepScratch();
    const losses: number[] = [];
    for (let step = 0; step < 9; step++) {
      const from = (step % 3) * 32 * d;
      losses.push(trainStep(state, cfg, x.subarray(from, from + 32 * d), 32, sc).loss);
    }
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses.slice(-3).reduce((a, b) => a + b)).toBeLessThan(losses.slice(0, 3).reduce((a, b) => a + b));

    // readout: a latent's decoder direction through the logit lens (soft-capped logits)
    const latent = new Tensor("f32", [1, d], state.params.wDec.slice(0, d));
    const lens = toFloat32Array(await logitLens(model, latent));
    expect(lens.length).toBe(64);
    expect(Math.max(...lens.map(Math.abs))).toBeLessThanOrEqual(CAP);
    // the lens of the last residual stream is the model's own output
    const last = `blocks.${model.config.nLayers - 1}.hook_resid_post`;
    const { logits, cache } = await model.runWithCache([prompts[0]![0]!], { names: [last] });
    expect(relErr(await logitLens(model, cache.get(last)), logits!)).toBeLessThan(1e-5);
    model.close();
  });
});
