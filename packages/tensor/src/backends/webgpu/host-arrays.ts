import { Tensor } from "../../tensor.ts";
import type { GpuContext } from "./context.ts";

type HostArray = Uint8Array | Int32Array | Float32Array;
/** A one-element array of each dtype: a binding is never empty. */
const ONE = { u8: () => new Uint8Array(1), i32: () => new Int32Array(1), f32: () => new Float32Array(1) } as const;

/**
 * Device copies of small host arrays that kernels take as host data (attention masks, rope positions, RoPE inverse
 * frequencies). A forward passes the same arrays to every layer, so each array's copy is kept (weakly, keyed by the
 * array) and uploaded again only when its contents changed — one upload per forward instead of one per layer.
 */
export class HostArrays {
  private readonly uploaded = new WeakMap<HostArray, { copy: HostArray; tensor: Tensor }>();

  constructor(private readonly ctx: GpuContext) {}

  /** `array` on the device as u8, i32 or f32 (by its type), of at least one element (a binding is never empty). */
  get(array: HostArray): Tensor {
    const hit = this.uploaded.get(array);
    if (hit && hit.copy.length === array.length && hit.copy.every((v, i) => v === array[i])) return hit.tensor;
    const copy = array.slice();
    const dtype = array instanceof Uint8Array ? "u8" : array instanceof Int32Array ? "i32" : "f32";
    const padded = copy.length > 0 ? copy : ONE[dtype]();
    const host = new Tensor(dtype, [padded.length], padded);
    const tensor = this.ctx.fromHost(host.dtype, host.shape, padded);
    this.uploaded.set(array, { copy, tensor });
    return tensor;
  }
}
