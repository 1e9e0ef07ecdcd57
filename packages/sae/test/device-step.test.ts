import { readFileSync } from "node:fs";
import { nativeAvailable, Rng, Tensor, useBackend } from "@difflens/tensor";
import { afterAll, describe, expect, it } from "vitest";
import { resolveSaeTrainConfig, type SaeTrainConfig } from "../src/train/config.ts";
import { DeviceTrainState } from "../src/train/device-train-state.ts";
import { StepScratch, type StepStats, trainStep } from "../src/train/sparse-step.ts";
import { trainStepDevice } from "../src/train/sparse-step-device.ts";
import { newTrainState, type TrainParams, type TrainState } from "../src/train/train-state.ts";
import { expectSameRun, type Run } from "./device-run.ts";

// The torch reference fixture of sparse-step.test.ts: 10 steps with dead latents from step 3 on (AuxK active).
const ref = JSON.parse(readFileSync(new URL("./fixtures/topk-step-reference.json", import.meta.url), "utf8"));
const cfg = resolveSaeTrainConfig(ref.config);

function freshState(): TrainState {
  const p = (rec: Record<string, number[]>): TrainParams => ({
    wEnc: Float32Array.from(rec.wEnc!),
    bEnc: Float32Array.from(rec.bEnc!),
    wDec: Float32Array.from(rec.wDec!),
    bDec: Float32Array.from(rec.bDec!),
  });
  return newTrainState(p(ref.initial), cfg, new Rng(0), ref.inputScale);
}

function hostRun(): Run {
  const state = freshState();
  const sc = new StepScratch();
  const stats = ref.batches.map((b: number[]) => trainStep(state, cfg, Float32Array.from(b), ref.batchSize, sc));
  return { state, stats };
}

async function deviceRun(c: SaeTrainConfig, blockRows?: number): Promise<Run> {
  const state = freshState();
  const dev = DeviceTrainState.upload(state, c);
  const stats: StepStats[] = [];
  for (const b of ref.batches as number[][]) {
    const x = new Tensor("f32", [ref.batchSize, c.dIn], Float32Array.from(b));
    stats.push(await trainStepDevice(state, c, x, dev, blockRows === undefined ? {} : { blockRows }));
  }
  await dev.download(state);
  dev.dispose();
  return { state, stats };
}

const backends: ("js" | "native")[] = ["js", ...(nativeAvailable().ok ? ["native" as const] : [])];

describe.each(backends)("device training step on the %s backend vs the fused host step", (backend) => {
  afterAll(() => {
    useBackend("js");
  });

  it("agrees over 10 steps (with AuxK) within 1e-5 relative, in one block and in blocks of 7 rows", async () => {
    useBackend(backend);
    const want = hostRun();
    expect(want.stats.some((s) => s.numDead > 0 && s.auxkLoss > 0)).toBe(true);
    expectSameRun(await deviceRun(cfg), want, 1e-5);
    expectSameRun(await deviceRun(cfg, 7), want, 1e-5);
  });
});
