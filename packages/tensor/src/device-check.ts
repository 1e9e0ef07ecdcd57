import { currentBackend } from "./registry.ts";
import { DeviceError, type Tensor } from "./tensor.ts";

/**
 * Every tensor argument of a public kernel must live on the current backend's device (DESIGN §3: copies between
 * devices are explicit). `args` maps argument names to tensors (undefined: an optional argument not given).
 * The error names the op, the argument, its dtype and shape, both devices and the fix.
 */
export function expectOnDevice(op: string, args: Readonly<Record<string, Tensor | undefined>>): void {
  const device = currentBackend().device;
  for (const [arg, t] of Object.entries(args)) {
    if (t === undefined || t.device === device) continue;
    const fix = device === "cpu" ? "read it with `await toHost(t)` first" : "copy it with `toDevice(t)` first";
    throw new DeviceError(
      `${op}(${arg}): tensor ${t.dtype} [${t.shape.join(", ")}] lives on ${t.device}, but the current backend (${currentBackend().name}) computes on ${device} — ${fix}`,
    );
  }
}

/** Whether a tensor's values can be read here (host tensors): value checks such as index ranges run only then. */
export function onHost(t: Tensor): boolean {
  return t.device === "cpu";
}
