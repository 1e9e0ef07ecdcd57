import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { type ActivationSource, nativeAvailable, Rng, Tensor, useBackend } from "@difflens/tensor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCheckpoint, writeCheckpointWeights } from "../src/checkpoint.ts";
import { latentsByBand, relativeDecoderNorms } from "../src/crosscoder/analysis.ts";
import { loadCrosscoder, loadCrosscoderCheckpoint } from "../src/crosscoder/checkpoint.ts";
import { isChatSpecific, latentScaling } from "../src/crosscoder/latent-scaling.ts";
import { pairedArraySource, pairSources } from "../src/crosscoder/paired-source.ts";
import { trainCrosscoder } from "../src/crosscoder/trainer.ts";
import { SaeError } from "../src/errors.ts";
import { loadSae } from "../src/formats/formats.ts";
import { resolveSaeTrainConfig } from "../src/train/config.ts";

const tmp = mkdtempSync(path.join(tmpdir(), "crosscoder-"));
beforeAll(() => {
  useBackend(nativeAvailable().ok ? "native" : "js");
});
afterAll(() => {
  useBackend("js");
  rmSync(tmp, { recursive: true, force: true });
});

/**
 * A planted pair: both models' rows are sparse sums of 12 shared unit directions (3 per row, magnitudes 1–3, the
 * same in both models), and on 30% of rows the chat model alone adds 2·u.
 */
function plantedPair(rows: number, dIn: number, seed: number) {
  const rng = new Rng(seed);
  const dir = () => {
    const v = Float64Array.from({ length: dIn }, () => rng.normal());
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  };
  const shared = Array.from({ length: 12 }, dir),
    u = dir();
  const base = new Float32Array(rows * dIn),
    chat = new Float32Array(rows * dIn);
  for (let r = 0; r < rows; r++) {
    for (let q = 0; q < 3; q++) {
      const f = shared[rng.int(shared.length)]!,
        m = 1 + 2 * rng.nextFloat();
      for (let i = 0; i < dIn; i++) {
        base[r * dIn + i] = base[r * dIn + i]! + m * f[i]!;
        chat[r * dIn + i] = chat[r * dIn + i]! + m * f[i]!;
      }
    }
    if (rng.nextFloat() < 0.3) for (let i = 0; i < dIn; i++) chat[r * dIn + i] = chat[r * dIn + i]! + 2 * u[i]!;
  }
  return { base, chat, u };
}

const D = 16;
const toyConfig = {
  dIn: D,
  dSae: 48,
  k: 4,
  lr: 1e-2,
  lrWarmupSteps: 10,
  kAux: 8,
  deadAfterTokens: 2048,
  initSampleTokens: 512,
  checkpointEverySteps: 0,
  logEverySteps: 50,
  seed: 1,
};

describe("trainCrosscoder (BatchTopK) on a planted pair", () => {
  it("finds the chat-only direction as a chat-only latent that Latent Scaling calls chat-specific", async () => {
    const { base, chat, u } = plantedPair(4096, D, 11);
    const res = await trainCrosscoder({
      config: { ...toyConfig, maxSteps: 320 },
      source: pairedArraySource(base, chat, D, 128, 10),
      outDir: path.join(tmp, "planted"),
    });
    const cc = res.crosscoder;
    const rel = relativeDecoderNorms(cc);
    const bands = latentsByBand(rel);
    const cosU = (j: number) => {
      const v = cc.decoderRow(j, "chat");
      let dot = 0;
      for (let i = 0; i < D; i++) dot += v[i]! * u[i]!;
      return Math.abs(dot) / cc.norms.chat[j]!;
    };
    const best = bands["chat-only"].sort((a, b) => cosU(b) - cosU(a))[0];
    expect(best, `chat-only latents: ${bands["chat-only"].length}`).toBeDefined();
    expect(cosU(best!)).toBeGreaterThan(0.9);
    expect(bands.shared.length).toBeGreaterThanOrEqual(8); // the shared directions stay shared
    const [ls] = await latentScaling(cc, pairedArraySource(base, chat, D, 512), [best!]);
    expect(isChatSpecific(ls!), JSON.stringify(ls)).toBe(true);
    // The learned threshold keeps about k latents per row at inference, without the batch.
    const codes = cc.encode(base.subarray(0, 512 * D), chat.subarray(0, 512 * D), 512);
    const l0 = codes.indices.length / 512;
    expect(l0).toBeGreaterThan(toyConfig.k / 2);
    expect(l0).toBeLessThan(toyConfig.k * 2);
    expect(res.finalDir).not.toBeNull();
    const loaded = await loadCrosscoder(res.finalDir!);
    expect(loaded.spec.threshold).toBe(cc.spec.threshold);
    expect(Array.from(loaded.weights.bDec)).toEqual(Array.from(cc.weights.bDec));
  }, 20_000);
});

describe("crosscoder checkpoints", () => {
  for (const kind of ["batchtopk", "l1"] as const) {
    it(`${kind}: a killed run resumed from its checkpoint ends bitwise equal to an uninterrupted one`, async () => {
      const { base, chat } = plantedPair(512, D, 5);
      const config = {
        ...toyConfig,
        kind,
        l1Coef: 0.1,
        maxSteps: 12,
        checkpointEverySteps: 4,
        normalizeActivations: "unit-mean-squared-norm",
        deadAfterTokens: 128,
      };
      const source = () => pairedArraySource(base, chat, D, 64, 3);
      const whole = await trainCrosscoder({ config, source: source(), outDir: path.join(tmp, `${kind}-whole`) });
      const dir = path.join(tmp, `${kind}-killed`);
      const killed = await trainCrosscoder({
        config,
        source: source(),
        outDir: dir,
        onStep: (s) => (s.step === 6 ? "stop" : undefined),
      });
      expect(killed.stoppedEarly).toBe(true);
      const resumed = await trainCrosscoder({ config, source: source(), outDir: dir, resume: true });
      expect(resumed.state.step).toBe(12);
      for (const name of ["wEnc", "bEnc", "wDec", "bDec"] as const)
        expect(Buffer.from(resumed.state.params[name].buffer)).toEqual(Buffer.from(whole.state.params[name].buffer));
      expect(resumed.state.threshold).toBe(whole.state.threshold);
      expect(Array.from(resumed.state.adamV.wDec)).toEqual(Array.from(whole.state.adamV.wDec));
    });
  }

  it("refuses an SAE folder where a crosscoder is expected, and the reverse", async () => {
    const saeDir = path.join(tmp, "an-sae");
    const cfg = resolveSaeTrainConfig({ dIn: 4, dSae: 8, k: 2 });
    const zeros = (n: number) => new Float32Array(n);
    await writeCheckpointWeights(saeDir, { wEnc: zeros(32), bEnc: zeros(8), wDec: zeros(32), bDec: zeros(4) }, cfg, {
      lineage: [],
      step: 0,
      tokensSeen: 0,
      inputScale: 1,
    });
    await expect(loadCrosscoderCheckpoint(saeDir)).rejects.toThrow(/is an SAE checkpoint.*loadCheckpoint or loadSae/);

    const { base, chat } = plantedPair(256, D, 2);
    const run = await trainCrosscoder({
      config: { ...toyConfig, maxSteps: 2 },
      source: pairedArraySource(base, chat, D, 64),
      outDir: path.join(tmp, "small"),
    });
    await expect(loadCheckpoint(run.finalDir!)).rejects.toThrow(/is a crosscoder checkpoint.*loadCrosscoder/);
    await expect(loadSae(run.finalDir!)).rejects.toThrow(/is a crosscoder checkpoint.*loadCrosscoder/);
  });
});

describe("paired activation sources", () => {
  const source = (dIn: number, batches: number[]): ActivationSource => ({
    dIn,
    async *[Symbol.asyncIterator]() {
      for (const rows of batches) yield new Tensor("f32", [rows, dIn], new Float32Array(rows * dIn));
    },
  });
  const drain = async (s: AsyncIterable<unknown>) => {
    for await (const _ of s);
  };

  it("refuses different widths, naming both sources", () => {
    expect(() => pairSources(source(8, [4]), source(16, [4]), { base: "qwen-base", chat: "qwen-chat" })).toThrow(
      /qwen-base has dIn=8 but qwen-chat has dIn=16/,
    );
  });

  it("refuses sources of different lengths and batches of different rows", async () => {
    await expect(drain(pairSources(source(8, [4, 4]), source(8, [4])))).rejects.toThrow(
      /chat ended after 1 batches while base has more/,
    );
    await expect(drain(pairSources(source(8, [4]), source(8, [4, 4])))).rejects.toThrow(
      /base ended after 1 batches while chat has more/,
    );
    const err = await drain(pairSources(source(8, [4, 4]), source(8, [4, 3]))).catch((e) => e);
    expect(err).toBeInstanceOf(SaeError);
    expect(err.message).toMatch(/paired batch 1: base has 4 rows but chat has 3/);
  });
});
