import { Tensor, toFloat32Array } from "@difflens/tensor";

/** A deep f32 copy (any float dtype in). */
export function cloneF32(t: Tensor): Tensor<"f32"> {
  const src = toFloat32Array(t);
  return new Tensor("f32", t.shape, src === t.data ? src.slice() : src);
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

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export function fmtShape(s: readonly number[]): string {
  return `[${s.join(", ")}]`;
}
