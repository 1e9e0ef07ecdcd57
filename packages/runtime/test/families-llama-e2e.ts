/**
 * The reduced end-to-end path every family must carry (issue 22 acceptance): a toy model of the family → harvest at
 * a residual hook → a few TopK SAE training steps → readouts (the logit lens of the harvested residual, which must
 * equal the model's own logits at the last layer, and of an SAE decoder direction). Test-only use of @difflens/sae
 * (the runtime never imports it). Also: the toy model saved as an HF folder reloads with the same config and logits.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { trainSae } from "@difflens/sae";
import { Rng, Tensor, toFloat32Array, useBackend } from "@difflens/tensor";
import { expect } from "vitest";
import { createRandomModel, harvest, loadModel, logitLens, saveModelFolder } from "../src/index.ts";
import { relErr } from "./helpers.ts";

export async function familyEndToEnd(config: Record<string, unknown>): Promise<void> {
  useBackend("js");
  const model = createRandomModel({ config, seed: 3 });
  const { nLayers, dModel, vocabSize } = model.config;
  const hook = `blocks.${nLayers - 1}.hook_resid_post`;
  const rng = new Rng(9);
  const batches = Array.from({ length: 6 }, () =>
    Array.from({ length: 4 }, () => Array.from({ length: 12 }, () => rng.int(vocabSize))),
  );
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `difflens-e2e-${model.config.architecture}-`));
  try {
    const steps: number[] = [];
    const result = await trainSae({
      config: { dIn: dModel, dSae: 4 * dModel, k: 4, lr: 3e-3, lrWarmupSteps: 1, initSampleTokens: 48, seed: 1 },
      source: harvest(model, hook, batches),
      outDir: dir,
      onStep: (_state, stats) => {
        steps.push(stats.fvu);
      },
    });
    expect(steps.length).toBe(batches.length);
    expect(steps.every(Number.isFinite)).toBe(true);
    expect(steps[steps.length - 1]!).toBeLessThan(1);

    // readout 1: the logit lens of the last residual is the model's own logits
    const ids = batches[0]!;
    const { logits, cache } = await model.runWithCache(ids, { names: [hook] });
    const lens = await logitLens(model, cache.get(hook));
    expect(lens.shape).toEqual([ids.length, ids[0]!.length, vocabSize]);
    expect(relErr(lens, logits!)).toBeLessThan(1e-5);
    // readout 2: a trained latent's decoder direction through the logit lens
    const direction = result.sae.featureDirection(0);
    const read = await logitLens(model, new Tensor("f32", [1, dModel], direction));
    expect(toFloat32Array(read).every(Number.isFinite)).toBe(true);

    // the family's configToHf / weightEntries / bindWeights round-trip through a saved folder
    await saveModelFolder(model, path.join(dir, "saved"), { tokenizerFrom: null });
    const reloaded = await loadModel(path.join(dir, "saved"));
    expect(reloaded.config).toEqual(model.config);
    expect(relErr(await reloaded.forward(ids), logits!)).toBeLessThan(1e-6);
    reloaded.close();
  } finally {
    model.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
