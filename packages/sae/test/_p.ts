import { useBackend } from "@difflens/tensor";
import { trainSae } from "/work/main/packages/sae/src/train/trainer.ts";
import { plantedDictionary, plantedSource, bestCosines } from "/work/main/packages/sae/test/planted.ts";
const [batch, batches, lr, dead] = process.argv.slice(2).map(Number);
useBackend((process.env.BK as any) ?? "js");
const dIn = 64, nDirs = 512;
const dirs = plantedDictionary(dIn, nDirs, 7);
const src = plantedSource({ dIn, nDirs, dirs, active: 5, noise: 0.05, batch: batch!, batches: batches!, seed: 11 });
const t0 = performance.now();
const res = await trainSae({ config: { dIn, dSae: 512, k: 5, lr, lrWarmupSteps: 10, deadAfterTokens: dead, checkpointEverySteps: 0, logEverySteps: 50, initSampleTokens: 4096, seed: 3 }, source: src, outDir: "/tmp/planted-run",
  logger: { log: (m, s) => console.log(s, m.fvu.toFixed(4), m.dead_fraction.toFixed(3), m.auxk_loss.toFixed(3)) } });
const cos = bestCosines(dirs, nDirs, res.sae.weights.wDec, 512, dIn);
const sorted = Array.from(cos).sort((a, b) => a - b);
console.log("mean", sorted.reduce((a, b) => a + b, 0) / nDirs, "p10", sorted[51], "min", sorted[0], "ms", performance.now() - t0);
