/**
 * The SAE part of bench:webgpu: one TopK SAE training step on the webgpu backend (`trainStepDevice`, the step
 * `trainSae` runs on a device: parameters and Adam moments on the device, one readback per step), a random input
 * batch uploaded once; median seconds per step after a warm-up step (shader compilation). Also the BatchTopK
 * crosscoder step (`batchTopKCrosscoderStepDevice`, what `trainCrosscoder` runs on a device) on two models of width
 * dIn each: its paired batch is concatenated and uploaded inside every step, as in training.
 */
import {
  batchTopKCrosscoderStepDevice,
  CrosscoderDeviceState,
  DeviceTrainState,
  initCrosscoderParams,
  initParams,
  newCrosscoderTrainState,
  newTrainState,
  resolveCrosscoderTrainConfig,
  resolveSaeTrainConfig,
  trainStepDevice,
} from "@difflens/sae";
import { Rng, randn, toDevice, useBackend } from "@difflens/tensor";

export interface SaeShape {
  readonly label: string;
  readonly dIn: number;
  readonly dSae: number;
  readonly k: number;
  readonly batch: number;
}

/** The real-GPU shape (the same as bench:sae's). */
export const SAE_GPU: SaeShape = {
  label: "d_in1024_d_sae32768_k32_batch4096",
  dIn: 1024,
  dSae: 32768,
  k: 32,
  batch: 4096,
};
/** Small enough for a software adapter. */
export const SAE_SMALL: SaeShape = { label: "d_in64_d_sae1024_k8_batch256", dIn: 64, dSae: 1024, k: 8, batch: 256 };

export interface SaeTiming {
  readonly seconds: number;
  readonly tokensPerS: number;
}

/** Times `steps` training steps on the webgpu backend. */
export async function timeSaeStep(shape: SaeShape, steps: number): Promise<SaeTiming> {
  const { dIn, dSae, k, batch } = shape;
  const cfg = resolveSaeTrainConfig({ dIn, dSae, k, lr: 1e-4, lrWarmupSteps: 0 });
  const rng = new Rng(0);
  useBackend("js"); // the initial parameters are made on the host, then uploaded once
  const state = newTrainState(initParams(dIn, dSae, rng, new Float32Array(dIn)), cfg, rng);
  const xHost = randn([batch, dIn], rng);
  await useBackend("webgpu");
  const dev = DeviceTrainState.upload(state, cfg);
  const x = toDevice(xHost);
  await trainStepDevice(state, cfg, x, dev);
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    await trainStepDevice(state, cfg, x, dev); // its one readback waits for the previous step's update too
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  const seconds = times[times.length >> 1]!;
  return { seconds, tokensPerS: batch / seconds };
}

/** Times `steps` BatchTopK crosscoder steps (two models of width shape.dIn) on the webgpu backend. */
export async function timeCrosscoderStep(shape: SaeShape, steps: number): Promise<SaeTiming> {
  const { dIn, dSae, k, batch } = shape;
  const cfg = resolveCrosscoderTrainConfig({ dIn, dSae, k, lr: 1e-4, lrWarmupSteps: 0 });
  const rng = new Rng(0);
  useBackend("js");
  const state = newCrosscoderTrainState(initCrosscoderParams(cfg, rng, new Float32Array(2 * dIn)), cfg, rng);
  const base = randn([batch, dIn], rng).data as Float32Array,
    chat = randn([batch, dIn], rng).data as Float32Array;
  await useBackend("webgpu");
  const dev = CrosscoderDeviceState.upload(state, cfg);
  try {
    await batchTopKCrosscoderStepDevice(state, cfg, base, chat, batch, dev);
    const times: number[] = [];
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      await batchTopKCrosscoderStepDevice(state, cfg, base, chat, batch, dev); // two readbacks, the last waits
      times.push((performance.now() - t0) / 1000);
    }
    times.sort((a, b) => a - b);
    const seconds = times[times.length >> 1]!;
    return { seconds, tokensPerS: batch / seconds };
  } finally {
    dev.dispose();
  }
}
