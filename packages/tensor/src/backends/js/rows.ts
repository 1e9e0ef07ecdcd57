import type { SoftmaxOptions } from "../../backend.ts";
import { zeros } from "../../construct.ts";
import { floatSliceToF32 } from "../../convert.ts";
import type { Tensor } from "../../tensor.ts";

/**
 * RMSNorm as in Llama/Qwen: y = x / sqrt(mean(x²) + eps) · (weightOffset + weight), per row; float64 internally
 * here (Gemma: weightOffset 1). x: [rows, d] f32, weight: [d] any float.
 */
export function rmsNorm(x: Tensor, weight: Tensor, eps: number, out?: Tensor, weightOffset = 0): Tensor {
  const d = weight.size;
  const o = out ?? zeros(x.shape, "f32");
  const w = floatSliceToF32(weight.dtype as "f32", weight.data as Float32Array, 0, d);
  const xs = x.data as Float32Array;
  const ys = o.data as Float32Array;
  for (let base = 0; base < xs.length; base += d) {
    let sumSq = 0;
    for (let j = 0; j < d; j++) sumSq += xs[base + j]! * xs[base + j]!;
    const inv = 1 / Math.sqrt(sumSq / d + eps);
    for (let j = 0; j < d; j++) ys[base + j] = xs[base + j]! * inv * (weightOffset + w[j]!);
  }
  return o;
}

/**
 * Inverse frequencies of rotary embedding, computed in f32 exactly as HF transformers does
 * (`1 / theta ** (arange(0, dim, 2) / dim)` in float32), so long positions round like the reference.
 */
export function ropeInverseFrequencies(theta: number, rotaryDim: number): Float32Array {
  const half = rotaryDim / 2;
  const inv = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    const exponent = Math.fround((2 * i) / rotaryDim);
    inv[i] = Math.fround(1 / Math.fround(theta ** exponent));
  }
  return inv;
}

/**
 * Rotary embedding with split halves (`rotate_half`), in place. x: [tokens, heads, headDim] f32.
 * For pair (x1 = x[i], x2 = x[i + half]) at angle a = f32(pos · invFreq[i]):
 * x1' = x1·cos a − x2·sin a, x2' = x2·cos a + x1·sin a. Dims past rotaryDim are left alone. invFreq (given by RoPE
 * scaling) defaults to ropeInverseFrequencies(theta, rotaryDim).
 */
export function ropeInPlace(
  x: Tensor,
  positions: Int32Array,
  theta: number,
  rotaryDim?: number,
  invFreq?: Float32Array,
): Tensor {
  const [tokens, heads, headDim] = x.shape as [number, number, number];
  const dim = rotaryDim ?? headDim;
  const half = dim / 2;
  const inv = invFreq ?? ropeInverseFrequencies(theta, dim);
  const cos = new Float64Array(half);
  const sin = new Float64Array(half);
  const v = x.data as Float32Array;
  for (let t = 0; t < tokens; t++) {
    const pos = positions[t]!;
    for (let i = 0; i < half; i++) {
      const angle = Math.fround(pos * inv[i]!);
      cos[i] = Math.fround(Math.cos(angle));
      sin[i] = Math.fround(Math.sin(angle));
    }
    for (let h = 0; h < heads; h++) {
      const base = (t * heads + h) * headDim;
      for (let i = 0; i < half; i++) {
        const x1 = v[base + i]!;
        const x2 = v[base + i + half]!;
        v[base + i] = x1 * cos[i]! - x2 * sin[i]!;
        v[base + i + half] = x2 * cos[i]! + x1 * sin[i]!;
      }
    }
  }
  return x;
}

/**
 * Softmax over the last axis: e^(x−max) / Σ e^(x−max) over the visible keys. With a causal mask,
 * row r is query q = r mod queries and sees keys j ≤ q + offset, with a window only those with
 * q + offset − j < window; masked entries (and rows that see nothing) are 0.
 */
export function softmax(x: Tensor, opts: SoftmaxOptions = {}, out?: Tensor): Tensor {
  const n = x.shape[x.shape.length - 1]!;
  const rows = n === 0 ? 0 : x.size / n;
  const o = out ?? zeros(x.shape, "f32");
  const xs = x.data as Float32Array;
  const ys = o.data as Float32Array;
  const e = new Float64Array(n);
  for (let r = 0; r < rows; r++) {
    const base = r * n;
    const [first, end] = opts.causal ? visibleKeys(r % opts.causal.queries, n, opts.causal) : [0, n];
    let max = -Infinity;
    for (let j = first; j < end; j++) max = Math.max(max, xs[base + j]!);
    let sum = 0;
    for (let j = first; j < end; j++) {
      e[j] = Math.exp(xs[base + j]! - max);
      sum += e[j]!;
    }
    for (let j = 0; j < n; j++) ys[base + j] = j >= first && j < end ? e[j]! / sum : 0;
  }
  return o;
}

/** Keys [first, end) that query q of a causal block sees: j ≤ q + offset and, with a window, q + offset − j < window. */
export function visibleKeys(
  q: number,
  n: number,
  causal: { offset: number; window?: number | undefined },
): [first: number, end: number] {
  const end = Math.max(0, Math.min(n, q + causal.offset + 1));
  const first = causal.window === undefined ? 0 : Math.min(end, Math.max(0, q + causal.offset + 1 - causal.window));
  return [first, end];
}
