import type { DType } from "./dtype.ts";
import { currentBackend } from "./registry.ts";
import type { Tensor } from "./tensor.ts";

/*
 * Explicit copies between host and device (DESIGN §3). On the CPU backends these are identities, so code written
 * for a device runs unchanged — and costs nothing — on the CPU.
 */

/** `t` on the current backend's device (a host tensor is uploaded; a tensor already there is returned). */
export function toDevice(t: Tensor): Tensor {
  const backend = currentBackend();
  return t.device === backend.device ? t : backend.upload(t);
}

/** `t` on the host: its values, read back from the device when it lives there. */
export async function toHost(t: Tensor): Promise<Tensor> {
  return t.device === "cpu" ? t : currentBackend().download(t);
}

/** Several tensors read back together (one wait for the device, not one per tensor). */
export async function toHostAll(tensors: readonly Tensor[]): Promise<Tensor[]> {
  return Promise.all(tensors.map((t) => toHost(t)));
}

/** Zeros on the current backend's device. */
export function deviceZeros(shape: readonly number[], dtype: DType = "f32"): Tensor {
  return currentBackend().zeros(shape, dtype);
}

/** Frees a device tensor's storage now (a hint: no-op on the CPU). */
export function release(t: Tensor): void {
  if (t.device !== "cpu") currentBackend().release(t);
}

/** Resolves when every kernel enqueued so far has finished. */
export function sync(): Promise<void> {
  return currentBackend().sync();
}
