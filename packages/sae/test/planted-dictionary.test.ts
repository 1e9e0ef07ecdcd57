import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { useBackend } from "@difflens/tensor";
import { afterAll, describe, expect, it } from "vitest";
import { trainSae } from "../src/train/trainer.ts";
import { bestCosines, plantedDictionary, plantedSource } from "./planted.ts";

// Issue 6: d_in 64, 512 unit ground-truth directions (seeded Gaussian), 5 active per sample with
// coefficients U(0.5, 1.5), noise std 0.05; d_sae 512, k 5, at most 2M samples. Mean best cosine ≥ 0.9.
const outDir = path.join(tmpdir(), `difflens-sae-planted-${process.pid}`);
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe("planted dictionary recovery", () => {
  it("recovers the planted directions (mean best decoder cosine ≥ 0.9)", async () => {
    useBackend("auto");
    const dIn = 64,
      nDirs = 512,
      batch = 256,
      batches = 1200;
    const dirs = plantedDictionary(dIn, nDirs, 7);
    const source = plantedSource({ dIn, nDirs, dirs, active: 5, noise: 0.05, batch, batches, seed: 11 });
    const res = await trainSae({
      config: {
        dIn,
        dSae: 512,
        k: 5,
        lr: 1e-2,
        lrWarmupSteps: 10,
        lrDecaySteps: 300,
        maxSteps: batches,
        deadAfterTokens: 50_000,
        checkpointEverySteps: 0,
        logEverySteps: 100,
        initSampleTokens: 4096,
        seed: 3,
      },
      source,
      outDir,
    });
    expect(res.state.tokensSeen).toBeLessThanOrEqual(2_000_000);
    const cos = Array.from(bestCosines(dirs, nDirs, res.sae.weights.wDec, 512, dIn)).sort((a, b) => a - b);
    const mean = cos.reduce((a, b) => a + b, 0) / nDirs;
    const q = (f: number) => cos[Math.floor(f * (nDirs - 1))]!.toFixed(3);
    console.log(
      `planted: samples=${res.state.tokensSeen} best-cosine mean=${mean.toFixed(4)} min=${q(0)} p10=${q(0.1)} p50=${q(0.5)} p90=${q(0.9)} max=${q(1)}`,
    );
    expect(mean).toBeGreaterThanOrEqual(0.9);
  });
});
