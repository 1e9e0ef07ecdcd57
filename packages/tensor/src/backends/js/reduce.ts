import { zeros } from "../../construct.ts";
import type { Tensor } from "../../tensor.ts";

/** x viewed as [outer, len, inner] around `axis` (already normalized to 0 ≤ axis < rank). */
export function axisView(
  shape: readonly number[],
  axis: number,
): { outer: number; len: number; inner: number; outShape: number[] } {
  const outer = shape.slice(0, axis).reduce((p, d) => p * d, 1);
  const inner = shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  return { outer, len: shape[axis]!, inner, outShape: [...shape.slice(0, axis), ...shape.slice(axis + 1)] };
}

function reduce(
  x: Tensor,
  axis: number,
  init: number,
  step: (acc: number, v: number) => number,
  finish: (acc: number, len: number) => number,
): Tensor {
  const { outer, len, inner, outShape } = axisView(x.shape, axis);
  const out = zeros(outShape, "f32");
  const xs = x.data as Float32Array;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let acc = init;
      for (let a = 0; a < len; a++) acc = step(acc, xs[(o * len + a) * inner + i]!);
      out.data[o * inner + i] = finish(acc, len);
    }
  }
  return out;
}

/** Sum over an axis, accumulated in float64. */
export function sum(x: Tensor, axis: number): Tensor {
  return reduce(
    x,
    axis,
    0,
    (acc, v) => acc + v,
    (acc) => acc,
  );
}

/** Mean over an axis (NaN for an empty axis, as 0/0). */
export function mean(x: Tensor, axis: number): Tensor {
  return reduce(
    x,
    axis,
    0,
    (acc, v) => acc + v,
    (acc, len) => acc / len,
  );
}

/** Maximum over an axis; NaN if any element is NaN; −Inf for an empty axis. */
export function max(x: Tensor, axis: number): Tensor {
  return reduce(
    x,
    axis,
    -Infinity,
    (acc, v) => (Number.isNaN(acc) || Number.isNaN(v) ? NaN : Math.max(acc, v)),
    (acc) => acc,
  );
}

/** Index of the maximum over an axis (first on ties; the first NaN counts as the maximum). */
export function argmax(x: Tensor, axis: number): Tensor {
  const { outer, len, inner, outShape } = axisView(x.shape, axis);
  const out = zeros(outShape, "i32");
  const xs = x.data as Float32Array;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let best = 0;
      let bestValue = xs[o * len * inner + i]!;
      for (let a = 1; a < len && !Number.isNaN(bestValue); a++) {
        const v = xs[(o * len + a) * inner + i]!;
        if (v > bestValue || Number.isNaN(v)) {
          best = a;
          bestValue = v;
        }
      }
      out.data[o * inner + i] = best;
    }
  }
  return out;
}
