import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { type ActivationSource, nativeAvailable, Tensor, useBackend } from "@difflens/tensor";
import { afterAll, describe, expect, it } from "vitest";
import { describeWebgpu } from "../../tensor/test/webgpu-available.ts";
import { latestCheckpoint, saveTrainCheckpoint } from "../src/checkpoint.ts";
import { DeviceTrainState } from "../src/train/device-train-state.ts";
import { StepScratch, type StepStats, trainStep } from "../src/train/sparse-step.ts";
import { trainStepDevice } from "../src/train/sparse-step-device.ts";
import { trainSae } from "../src/train/trainer.ts";
import { fixtureConfig as cfg, FIXTURE_ROWS, fixtureBatch, fixtureState, selectionMargin } from "./device-fixture.ts";
import { expectSameRun, type Run } from "./device-run.ts";

const reference = nativeAvailable().ok ? "native" : "js";
const STEPS = 10;
const root = mkdtempSync(path.join(tmpdir(), "difflens-sae-webgpu-"));
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  useBackend("js");
});

/** The fused host step on the reference CPU backend, asserting the fixture's selection margin before each step. */
function referenceRun(): Run & { margin: number } {
  useBackend(reference);
  const state = fixtureState();
  const sc = new StepScratch();
  const stats: StepStats[] = [];
  let margin = Infinity;
  for (let s = 0; s < STEPS; s++) {
    const x = fixtureBatch(s);
    margin = Math.min(margin, selectionMargin(state, cfg, x));
    stats.push(trainStep(state, cfg, x, FIXTURE_ROWS, sc));
  }
  return { state, stats, margin };
}

describe("the device-step fixture", () => {
  it("keeps every top-k and AuxK selection 0.01 apart over its 10 steps, with AuxK active", () => {
    const run = referenceRun();
    expect(run.margin).toBeGreaterThan(0.01);
    expect(run.stats.filter((s) => s.numDead > 0 && s.auxkLoss > 0).length).toBeGreaterThanOrEqual(5);
  });
});

describeWebgpu("SAE training on webgpu vs the CPU", () => {
  it("10 device steps equal the host step within 1e-4 relative (weights, biases, moments, losses)", async () => {
    const want = referenceRun();
    await useBackend("webgpu");
    const state = fixtureState();
    const dev = DeviceTrainState.upload(state, cfg);
    const stats: StepStats[] = [];
    for (let s = 0; s < STEPS; s++) {
      const x = new Tensor("f32", [FIXTURE_ROWS, cfg.dIn], fixtureBatch(s));
      stats.push(await trainStepDevice(state, cfg, x, dev));
    }
    await dev.download(state);
    dev.dispose();
    useBackend(reference);
    expectSameRun({ state, stats }, want, 1e-4);
  });

  it("trainSae on webgpu, stopped and resumed from its checkpoint, equals an uninterrupted CPU run", async () => {
    // A finetune from the fixture's state (keeping its optimizer) starts trainSae from the fixture's parameters.
    useBackend(reference);
    const parentDir = path.join(root, "parent");
    await saveTrainCheckpoint(parentDir, fixtureState(1), cfg, [], 0);
    const parent = (await latestCheckpoint(parentDir))!;
    const config = { ...cfg, maxSteps: 6, initSampleTokens: FIXTURE_ROWS, checkpointEverySteps: 3, logEverySteps: 3 };
    const run = (outDir: string, extra: object) =>
      trainSae({ config, source: fixtureSource(8), outDir: path.join(root, outDir), ...extra });
    const finetune = { finetuneFrom: { path: parent, optimizer: "keep" as const } };
    const want = await run("cpu", finetune);

    await useBackend("webgpu");
    const stopped = await run("gpu", {
      ...finetune,
      onStep: (s: { step: number }) => (s.step === 4 ? "stop" : undefined),
    });
    expect(stopped.stoppedEarly).toBe(true);
    const resumed = await run("gpu", { resume: true });
    useBackend(reference);
    expect(resumed.state.step).toBe(6);
    expectSameRun({ state: resumed.state, stats: [] }, { state: want.state, stats: [] }, 1e-4);
  });
});

/** The fixture's batches as an activation source. */
function fixtureSource(batches: number): ActivationSource {
  return {
    dIn: cfg.dIn,
    async *[Symbol.asyncIterator]() {
      for (let b = 0; b < batches; b++) yield new Tensor("f32", [FIXTURE_ROWS, cfg.dIn], fixtureBatch(b));
    },
  };
}
