import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { nativeAvailable, readSafetensors, type Tensor, toFloat32Array } from "@difflens/tensor";

export const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "qwen2");

/** Backends present on this machine: js always, native when its add-on loads. */
export function availableBackends(): Array<"js" | "native"> {
  return nativeAvailable().ok ? ["js", "native"] : ["js"];
}

export async function readExpected(file: string): Promise<Record<string, Tensor>> {
  return (await readSafetensors(path.join(FIXTURES, file))).tensors;
}

export function ids2d(t: Tensor): number[][] {
  const [b, s] = t.shape as [number, number];
  const data = t.data as Int32Array;
  return Array.from({ length: b }, (_, i) => Array.from(data.subarray(i * s, (i + 1) * s)));
}

/** ‖a − b‖ / ‖b‖. */
export function relErr(a: Tensor | ArrayLike<number>, b: Tensor | ArrayLike<number>): number {
  const x = "dtype" in a ? toFloat32Array(a as Tensor) : (a as ArrayLike<number>);
  const y = "dtype" in b ? toFloat32Array(b as Tensor) : (b as ArrayLike<number>);
  if (x.length !== y.length) throw new Error(`relErr: ${x.length} vs ${y.length} elements`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < x.length; i++) {
    num += (x[i]! - y[i]!) ** 2;
    den += y[i]! ** 2;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
}
