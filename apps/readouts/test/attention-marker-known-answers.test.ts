/**
 * Issue 18's known answers, through the whole pipeline (stages 1–3 and the follow-ups) on the marker toy, for toy
 * seeds 0 and 1 and both plants:
 * - attention plant: the force-feed diff-of-diffs (system, marker − C1) peaks at L* with its SEM bar excluding zero,
 *   carried by the planted head; below L* trained and base are identical (|dd| ≤ 1e-6);
 * - mlp plant: sign balance p > 0.05 and |mean dd| ≤ 0.1 × the attention plant's peak; patch locus, ablate-mlp peak
 *   and the logit lens' rise all at L*;
 * - the force-feed replays the trained tokens exactly: the comparator read the very sequences (and positions) the
 *   trained model was read on, and those are the tokens the trained model samples from the trial's seed.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { forceFeed, loadLoraAdapter, loadModel, mergeLora, sampleToken } from "@difflens/runtime";
import { Rng, useBackend } from "@difflens/tensor";
import { afterAll, describe, expect, it } from "vitest";
import type { AttentionMarkerConfig } from "../src/attention-marker/config.ts";
import { readReadouts } from "../src/attention-marker/readout-records.ts";
import { TOY_CACHE_DIR } from "../src/cli/repo-paths.ts";
import {
  generationsFile,
  loadAttentionMarkerConfig,
  readGenerations,
  runAblateMlp,
  runAttentionMarker,
  runLogitLens,
  runPatch,
} from "../src/index.ts";
import { type MarkerPlant, writeMarkerToy } from "../src/toy/marker-toy.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "attention-marker-known-answers-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const quiet = () => {};

async function runToy(seed: number, plant: MarkerPlant) {
  const toy = await writeMarkerToy(path.join(TOY_CACHE_DIR, "marker"), { seed, plant }); // shared with the CLI
  const loaded = loadAttentionMarkerConfig(toy.configFile);
  // 32 of the config's 48 attempts (~17 positives): the answers hold by construction, and the run costs 2/3.
  const config: AttentionMarkerConfig = { ...loaded, attempts: 32, wandb: { ...loaded.wandb, mode: "disabled" } };
  const runDir = path.join(dir, `toy-${plant}-seed-${seed}`);
  const results = await runAttentionMarker(config, { runDir, log: quiet, figureFormats: ["svg"] });
  const persona = results.analysis!.personas.find((p) => p.persona === toy.persona)!;
  return { toy, config, runDir, results, dd: persona.pooled.forceFeed!.diffOfDiffs.B };
}

describe("attention-marker on the marker toy: the issue's known answers", () => {
  for (const seed of [0, 1]) {
    it(`toy seed ${seed}: the attention plant's peak at L*, the mlp plant's verdict and follow-ups at L*`, async () => {
      useBackend("auto");
      const attention = await runToy(seed, "attention");
      const L = attention.toy.plantedLayer;
      const { mean, sem, semExcludesZero } = attention.dd.perLayer;
      expect(attention.dd.max.layer).toBe(L);
      expect(semExcludesZero[L]).toBe(true);
      expect(mean[L]! - sem[L]!).toBeGreaterThan(0);
      for (let l = 0; l < L; l++) {
        expect(Math.abs(mean[l]!)).toBeLessThanOrEqual(1e-6);
        expect(sem[l]!).toBeLessThanOrEqual(1e-6);
      }
      const headsAtL = attention.dd.perHead![L]!;
      expect(headsAtL.indexOf(Math.max(...headsAtL))).toBe(attention.toy.plantedHead);

      const mlp = await runToy(seed, "mlp");
      expect(mlp.dd.signBalance.pValue).toBeGreaterThan(0.05);
      expect(Math.abs(mlp.dd.mean)).toBeLessThanOrEqual(0.1 * attention.dd.max.value);
      const options = { log: quiet, batchSize: 32 };
      const patch = (await runPatch(mlp.runDir, options)).results.personas[0]!;
      const ablate = (await runAblateMlp(mlp.runDir, options)).results.personas[0]!;
      const lens = (await runLogitLens(mlp.runDir, options)).results.personas[0]!;
      expect(patch.locus).toBe(L);
      expect(ablate.peak).toBe(L);
      expect(lens.trained.riseLayer).toBe(L);
      expect(lens.difference!.riseLayer).toBe(L);

      // Both plants put 30–70 % of the attempts among the positives.
      for (const { results } of [attention, mlp]) {
        const { positives, attempts } = results.counts[0]!;
        expect(positives / attempts).toBeGreaterThanOrEqual(0.3);
        expect(positives / attempts).toBeLessThanOrEqual(0.7);
      }
      if (seed === 0) await expectExactReplay(attention);
    });
  }
});

/** The comparator read exactly the trained positives' tokens and positions, which are the trained model's samples. */
async function expectExactReplay(run: Awaited<ReturnType<typeof runToy>>): Promise<void> {
  const { toy, config, runDir } = run;
  const readouts = path.join(runDir, "readouts", toy.persona, "seed-0");
  const trained = (await readReadouts(path.join(readouts, "trained"))).readouts;
  const comparator = (await readReadouts(path.join(readouts, "comparator"))).readouts;
  expect(comparator.map((r) => [r.trial, r.fedTokens, r.positions])).toEqual(
    trained.map((r) => [r.trial, r.fedTokens, r.positions]),
  );
  const base = await loadModel(toy.baseDir, { mmap: false });
  const model = await mergeLora(base, await loadLoraAdapter(toy.adapterDir));
  const positives = readGenerations(generationsFile(runDir, toy.persona, 0)).filter((g) => g.markerPosition !== null);
  expect(positives.map((g) => g.trial)).toEqual(trained.map((r) => r.trial));
  for (const g of positives.slice(0, 4)) {
    const { stepLogits } = await forceFeed(model, g.promptIds, g.generatedIds);
    const rng = new Rng(g.trialSeed);
    const V = model.config.vocabSize;
    const replayed = g.generatedIds.map((_, i) =>
      sampleToken(stepLogits.data as Float32Array, i * V, V, config.generation, rng),
    );
    expect(replayed).toEqual(g.generatedIds);
    expect(g.promptIds.length + g.generatedIds.indexOf(toy.markerId)).toBe(g.markerPosition);
  }
  base.close();
}
