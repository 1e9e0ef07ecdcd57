import { Tensor } from "../../tensor.ts";
import type { GpuContext } from "./context.ts";

/**
 * Device copies of small host arrays that kernels take as host data (attention masks, rope positions). A forward
 * passes the same arrays to every layer, so each array's copy is kept (weakly, keyed by the array) and uploaded
 * again only when its contents changed — one upload per forward instead of one per layer.
 */
export class HostArrays {
  private readonly uploaded = new WeakMap<Uint8Array | Int32Array, { copy: Uint8Array | Int32Array; tensor: Tensor }>();

  constructor(private readonly ctx: GpuContext) {}

  /** `array` on the device as u8 (Uint8Array) or i32 (Int32Array), of at least one element (a binding is never empty). */
  get(array: Uint8Array | Int32Array): Tensor {
    const hit = this.uploaded.get(array);
    if (hit && hit.copy.length === array.length && hit.copy.every((v, i) => v === array[i])) return hit.tensor;
    const copy = array.slice();
    const padded = copy.length > 0 ? copy : array instanceof Uint8Array ? new Uint8Array(1) : new Int32Array(1);
    const host = new Tensor(array instanceof Uint8Array ? "u8" : "i32", [padded.length], padded);
    const tensor = this.ctx.fromHost(host.dtype, host.shape, padded);
    this.uploaded.set(array, { copy, tensor });
    return tensor;
  }
}
