import { Tensor, toFloat32Array } from "@difflens/tensor";

/** An f32 tensor over (a fresh or given) Float32Array. */
export function f32(shape: readonly number[], data?: Float32Array): Tensor<"f32"> {
  const size = shape.reduce((a, b) => a * b, 1);
  return new Tensor("f32", shape, data ?? new Float32Array(size));
}

/** A deep f32 copy (any float dtype in). */
export function cloneF32(t: Tensor): Tensor<"f32"> {
  const src = toFloat32Array(t);
  return new Tensor("f32", t.shape, src === t.data ? src.slice() : src);
}

/** Zero-copy f32 view of `t` with another shape. */
export function viewF32(t: Tensor, shape: readonly number[]): Tensor<"f32"> {
  return t.reshape(shape) as Tensor<"f32">;
}

/**
 * Swaps axes 1 and 2 of a contiguous [a, b, c, d] tensor → [a, c, b, d] (e.g. [batch, pos, heads, dHead] ↔
 * [batch, heads, pos, dHead]); rows of d are copied with `set`, so the cost is memory traffic only.
 */
export function swapAxes12(x: Tensor, out?: Float32Array): Tensor<"f32"> {
  const [a, b, c, d] = x.shape as [number, number, number, number];
  const src = x.data as Float32Array;
  const dst = out ?? new Float32Array(src.length);
  for (let i = 0; i < a; i++) {
    for (let j = 0; j < b; j++) {
      for (let k = 0; k < c; k++) {
        const from = ((i * b + j) * c + k) * d;
        const to = ((i * c + k) * b + j) * d;
        dst.set(src.subarray(from, from + d), to);
      }
    }
  }
  return new Tensor("f32", [a, c, b, d], dst);
}

/** Copies the entries at `indices` along `axis` into a new f32 tensor. */
export function takeAlongAxis(x: Tensor, axis: number, indices: readonly number[]): Tensor<"f32"> {
  const src = toFloat32Array(x);
  const shape = [...x.shape];
  const outer = shape.slice(0, axis).reduce((p, v) => p * v, 1);
  const inner = shape.slice(axis + 1).reduce((p, v) => p * v, 1);
  const n = shape[axis]!;
  const dst = new Float32Array(outer * indices.length * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < indices.length; j++) {
      const from = (o * n + indices[j]!) * inner;
      dst.set(src.subarray(from, from + inner), (o * indices.length + j) * inner);
    }
  }
  shape[axis] = indices.length;
  return new Tensor("f32", shape, dst);
}

/** ‖a − b‖ / ‖b‖ over whole tensors (f64 accumulation). */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`relativeError: lengths ${a.length} vs ${b.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    num += d * d;
    den += b[i]! * b[i]!;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export function fmtShape(s: readonly number[]): string {
  return `[${s.join(", ")}]`;
}
