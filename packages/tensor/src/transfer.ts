import type { DType } from "./dtype.ts";
import { currentBackend } from "./registry.ts";
import { type Device, DeviceError, type Tensor } from "./tensor.ts";

/*
 * Explicit copies between host and device (DESIGN §3). On the CPU backends these are identities, so code written
 * for a device runs unchanged — and costs nothing — on the CPU.
 */

/** `t` on the current backend's device (a host tensor is uploaded; a tensor already there is returned). */
export function toDevice(t: Tensor): Tensor {
  const backend = currentBackend();
  if (t.device === backend.device) return t;
  if (t.device !== "cpu") throw crossDevice("toDevice", t, backend.device);
  return backend.upload(t);
}

/** `t` on the host: its values, read back from the device when it lives there. */
export async function toHost(t: Tensor): Promise<Tensor> {
  if (t.device === "cpu") return t;
  const backend = currentBackend();
  if (t.device !== backend.device) throw crossDevice("toHost", t, backend.device);
  return backend.download(t);
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
  // A tensor of a device that is not current is left to the garbage collector (its backend frees it then).
  if (t.device !== "cpu" && t.device === currentBackend().device) currentBackend().release(t);
}

/** Resolves when every kernel enqueued so far has finished. */
export function sync(): Promise<void> {
  return currentBackend().sync();
}

/** A device tensor handed over while another backend is current: only its own backend can read or move it. */
function crossDevice(op: string, t: Tensor, current: Device): DeviceError {
  return new DeviceError(
    `${op}: tensor ${t.dtype} [${t.shape.join(", ")}] lives on ${t.device}, but the current backend computes on ${current} — select its backend again (useBackend("${t.device}")) to read it`,
  );
}
