/**
 * One reduced end-to-end run per Gemma family: a random toy model (sliding window shorter than the prompts, a final
 * soft-cap) → harvest at a residual hook → a few TopK SAE steps → a readout (the logit lens of an SAE latent and of
 * the last residual, which must equal the model's own logits: the final soft-cap is part of the unembedding), and a
 * PEFT LoRA merged through the family's weight map.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { initParams, newTrainState, resolveSaeTrainConfig, StepScratch, trainStep } from "@difflens/sae";
import { Rng, randn, Tensor, toFloat32Array, useBackend } from "@difflens/tensor";
import { describe, expect, it } from "vitest";
import {
  createRandomModel,
  type GemmaWeights,
  harvest,
  loadLoraAdapter,
  logitLens,
  mergeLora,
  writeLoraAdapter,
} from "../src/index.ts";
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

    // a PEFT LoRA on Gemma's projections merges through the family's weight map
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gemma-lora-"));
    try {
      const rng = new Rng(2);
      await writeLoraAdapter(dir, {
        r: 2,
        loraAlpha: 4,
        targetModules: ["q_proj"],
        modules: { "model.layers.1.self_attn.q_proj": { a: randn([2, d], rng, 0.3), b: randn([16, 2], rng, 0.3) } },
      });
      const merged = await mergeLora(model, await loadLoraAdapter(dir));
      const [m, b] = [merged.weights as GemmaWeights, model.weights as GemmaWeights];
      expect(m.layers[1]!.qProj).not.toBe(b.layers[1]!.qProj);
      expect(m.layers[0]!.qProj).toBe(b.layers[0]!.qProj);
      expect(relErr(await merged.forward([prompts[0]![0]!]), logits!)).toBeGreaterThan(1e-4);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    model.close();
  });
});
