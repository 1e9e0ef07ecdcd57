import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { DeviceError, nativeAvailable, useBackend } from "@difflens/tensor";
import { afterAll, expect, it } from "vitest";
import { describeWebgpu } from "../../tensor/test/webgpu-available.ts";
import { batchTopKCrosscoderStep, CrosscoderScratch } from "../src/crosscoder/batch-topk-step.ts";
import { batchTopKCrosscoderStepDevice } from "../src/crosscoder/batch-topk-step-device.ts";
import { saveCrosscoderCheckpoint } from "../src/crosscoder/checkpoint.ts";
import { CrosscoderDeviceState } from "../src/crosscoder/device-state.ts";
import { L1Scratch, l1CrosscoderStep } from "../src/crosscoder/l1-step.ts";
import { l1CrosscoderStepDevice } from "../src/crosscoder/l1-step-device.ts";
import type { CrosscoderStepStats } from "../src/crosscoder/step-common.ts";
import { trainCrosscoder } from "../src/crosscoder/trainer.ts";
import {
  expectReference,
  expectSameWeights,
  REFERENCE_STEPS,
  ref,
  referenceBatch,
  referenceConfig,
  referenceSource,
  referenceState,
} from "./crosscoder-reference.ts";

const reference = nativeAvailable().ok ? "native" : "js";
const root = mkdtempSync(path.join(tmpdir(), "difflens-crosscoder-webgpu-"));
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  useBackend("js");
});

describeWebgpu("crosscoder training on webgpu vs the CPU", () => {
  for (const kind of ["batchtopk", "l1"] as const) {
    it(`${kind}: 10 device steps (blocks of 5 rows) equal the ${reference} step and the torch reference within 1e-4 relative`, async () => {
      useBackend(reference);
      const cfg = referenceConfig(kind);
      const cpu = referenceState(cfg);
      const btk = new CrosscoderScratch(),
        l1 = new L1Scratch();
      for (let s = 0; s < REFERENCE_STEPS; s++) {
        const { base, chat } = referenceBatch(s);
        if (kind === "batchtopk") batchTopKCrosscoderStep(cpu, cfg, base, chat, ref.batchSize, btk);
        else l1CrosscoderStep(cpu, cfg, base, chat, ref.batchSize, l1);
      }

      await useBackend("webgpu");
      const state = referenceState(cfg);
      const dev = CrosscoderDeviceState.upload(state, cfg);
      const step = kind === "batchtopk" ? batchTopKCrosscoderStepDevice : l1CrosscoderStepDevice;
      const stats: CrosscoderStepStats[] = [];
      for (let s = 0; s < REFERENCE_STEPS; s++) {
        const { base, chat } = referenceBatch(s);
        stats.push(await step(state, cfg, base, chat, ref.batchSize, dev, { blockRows: 5 })); // 16 rows: 4 blocks
      }
      await dev.download(state);
      dev.dispose();
      useBackend(reference);
      expectSameWeights(state, cpu.params, 1e-4);
      expect(state.threshold === null ? null : state.threshold / cpu.threshold!).toBeCloseTo(
        cpu.threshold === null ? (null as unknown as number) : 1,
        5,
      );
      expectReference(kind, state, stats);
    });
  }

  it("trainCrosscoder on webgpu, stopped and resumed, equals an uninterrupted CPU run", async () => {
    // A checkpoint of the fixture's initial state (no batch read yet) starts both runs from the same weights.
    useBackend(reference);
    const cfg = { ...referenceConfig("batchtopk"), checkpointEverySteps: 4, logEverySteps: 5 };
    const start = async (name: string) => {
      const dir = path.join(root, name);
      await saveCrosscoderCheckpoint(dir, referenceState(cfg), cfg, [], 0);
      return dir;
    };
    const run = (outDir: string, extra: object = {}) =>
      trainCrosscoder({ config: cfg, source: referenceSource(), outDir, resume: true, ...extra });
    const want = await run(await start("cpu"));

    const gpuDir = await start("gpu");
    await useBackend("webgpu");
    const stopped = await run(gpuDir, { onStep: (s: { step: number }) => (s.step === 6 ? "stop" : undefined) });
    expect(stopped.stoppedEarly).toBe(true);
    const resumed = await run(gpuDir);
    useBackend(reference);
    expect(resumed.state.step).toBe(REFERENCE_STEPS);
    expectSameWeights(resumed.state, want.state.params, 1e-4);
    expect(Array.from(resumed.state.sinceFired)).toEqual(Array.from(want.state.sinceFired));
  });

  it("refuses parameters that live on another device than the current backend's", async () => {
    await useBackend("webgpu");
    const cfg = referenceConfig("batchtopk");
    const state = referenceState(cfg);
    const dev = CrosscoderDeviceState.upload(state, cfg);
    useBackend(reference);
    const { base, chat } = referenceBatch(0);
    await expect(batchTopKCrosscoderStepDevice(state, cfg, base, chat, ref.batchSize, dev)).rejects.toThrow(
      DeviceError,
    );
    await expect(l1CrosscoderStepDevice(state, cfg, base, chat, ref.batchSize, dev)).rejects.toThrow(
      /parameters live on webgpu, but the current backend \((js|native)\) computes on cpu/,
    );
    await useBackend("webgpu");
    dev.dispose();
    useBackend(reference);
  });
});
