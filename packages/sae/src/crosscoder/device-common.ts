import { copy, currentBackend, DeviceError, mul, normalizeRows, sum, type Tensor, toDevice } from "@difflens/tensor";
import type { DeviceTrainState } from "../train/device-train-state.ts";
import { type BatchVariance, concatScaled, f32 } from "./step-common.ts";

/** What both device crosscoder steps share. */

/** Collects a step's temporaries (released after a later readback, as sparse-step-device.ts does). */
export type Temp = <T extends Tensor>(t: T) => T;

/** Throws the kernels' DeviceError, before any work, unless dev lives on the current backend's device. */
export function checkDevice(op: string, dev: DeviceTrainState): void {
  const here = currentBackend().device,
    there = dev.params.wEnc.device;
  if (here !== there)
    throw new DeviceError(
      `${op}: the crosscoder's parameters live on ${there}, but the current backend (${currentBackend().name}) computes on ${here} — upload them (CrosscoderDeviceState.upload) under the backend that trains`,
    );
}

/**
 * X = [base | chat]·scale [rows, 2·dIn] on the device, and the batch variances. The concatenation and the float64
 * variances are one host pass over the batch the upload copies anyway, and give the CPU step's exact numbers.
 */
export function uploadPaired(
  base: Float32Array,
  chat: Float32Array,
  rows: number,
  dIn: number,
  inputScale: number,
  temp: Temp,
): { x: Tensor; variance: BatchVariance } {
  const host = new Float32Array(rows * 2 * dIn);
  const variance = concatScaled(base, chat, rows, dIn, inputScale, host);
  const t = f32([rows, 2 * dIn], host);
  const x = toDevice(t);
  if (x !== t) temp(x);
  return { x, variance };
}

/**
 * Per latent ‖d^base‖ + ‖d^chat‖ [dSae] of wDec [dSae, 2·dIn], and the unit halves [2·dSae, dIn] (d/‖d‖; zero halves
 * stay zero). There is no sqrt kernel: ‖d‖ = d·(d/‖d‖), with normalizeRows giving d/(‖d‖ + 1e-30).
 */
export function deviceDecoderNorms(
  wDec: Tensor,
  dIn: number,
  dSae: number,
  temp: Temp,
): { norms: Tensor; unit: Tensor } {
  const halves = wDec.reshape([2 * dSae, dIn]);
  const unit = temp(copy(halves));
  normalizeRows(unit, 1e-30);
  const halfNorms = temp(sum(temp(mul(halves, unit)), 1)); // [2·dSae]: base, chat per latent
  const norms = temp(sum(halfNorms.reshape([dSae, 2]), 1)); // [dSae]
  return { norms, unit };
}

/** Σ‖e‖² per model from the per-half row sums [2·rows] (base, chat alternating), float64. */
export function splitResidualSums(halfSums: Float32Array): { base: number; chat: number } {
  let base = 0,
    chat = 0;
  for (let i = 0; i < halfSums.length; i += 2) {
    base += halfSums[i]!;
    chat += halfSums[i + 1]!;
  }
  return { base, chat };
}
