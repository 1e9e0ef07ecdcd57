import { currentBackend, release, type Tensor, toDevice, toHost } from "@difflens/tensor";
import type { Qwen2LayerWeights, Qwen2Weights } from "./architectures/qwen2-weights.ts";

/*
 * Where a model's tensors go: its weights to the current backend's device when it is made, its results back to the
 * host at the end of a call.
 */

/**
 * Device copies of host weights, shared by every model made from the same host tensors on that device: a tied
 * unembedding is uploaded once, and a LoRA-merged model reuses its base's unchanged weights.
 */
const uploaded = new WeakMap<Tensor, Tensor>();

/** The weights on the current backend's device (see `uploaded`). */
export function weightsOnDevice(w: Qwen2Weights): Qwen2Weights {
  const device = currentBackend().device;
  if (device === "cpu") return w;
  const up = <T extends Tensor>(t: T): T => {
    let d = uploaded.get(t);
    if (d?.device !== device) {
      d = toDevice(t);
      uploaded.set(t, d);
    }
    return d as T;
  };
  const layers = w.layers.map((l) => {
    const entries = Object.entries(l).map(([key, t]) => [key, up(t as Tensor)]);
    return Object.fromEntries(entries) as unknown as Qwen2LayerWeights;
  });
  return { embedTokens: up(w.embedTokens), layers, finalNorm: up(w.finalNorm), lmHead: up(w.lmHead) };
}

/** A device result on the host (its device storage freed); a host tensor as it is. */
export async function hostCopy(t: Tensor): Promise<Tensor> {
  if (t.device === "cpu") return t;
  const host = await toHost(t);
  release(t);
  return host;
}
