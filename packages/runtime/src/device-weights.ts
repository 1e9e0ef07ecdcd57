import { currentBackend, release, Tensor, toDevice, toHost } from "@difflens/tensor";
import type { DecoderWeights } from "./families/model-family.ts";

/*
 * Where a model's tensors go: its weights to the current backend's device when it is made, its results back to the
 * host at the end of a call.
 */

/**
 * Device copies of host weights, shared by every model made from the same host tensors on that device: a tied
 * unembedding is uploaded once, and a LoRA-merged model reuses its base's unchanged weights.
 */
const uploaded = new WeakMap<Tensor, Tensor>();

/**
 * The weights on the current backend's device (see `uploaded`): any family's weight object walked generically —
 * every Tensor in it (in nested plain objects and arrays) replaced by its device copy, everything else (numbers,
 * typed arrays such as host-side RoPE frequencies) kept as it is.
 */
export function weightsOnDevice<W extends DecoderWeights>(w: W): W {
  const device = currentBackend().device;
  if (device === "cpu") return w;
  const up = (t: Tensor): Tensor => {
    let d = uploaded.get(t);
    if (d?.device !== device) {
      d = toDevice(t);
      uploaded.set(t, d);
    }
    return d;
  };
  const walk = (x: unknown): unknown => {
    if (x instanceof Tensor) return up(x);
    if (Array.isArray(x)) return x.map(walk);
    const plain = typeof x === "object" && x !== null && [Object.prototype, null].includes(Object.getPrototypeOf(x));
    return plain ? Object.fromEntries(Object.entries(x).map(([k, v]) => [k, walk(v)])) : x; // typed arrays as they are
  };
  return walk(w) as W;
}

/** A device result on the host (its device storage freed); a host tensor as it is. */
export async function hostCopy(t: Tensor): Promise<Tensor> {
  if (t.device === "cpu") return t;
  const host = await toHost(t);
  release(t);
  return host;
}
