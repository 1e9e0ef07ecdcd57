/**
 * Float64 reference math for the parity suite, written independently of the backends (plain loops
 * over numbers, no shared kernel code), plus the relative-error measure the tolerances refer to.
 */

/** ‖a − b‖ / ‖b‖ over the whole tensor (‖a − b‖ when b is all zeros); Infinity if a has a NaN b lacks. */
export function relErr(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const b = expected[i]!;
    if (Number.isNaN(a) !== Number.isNaN(b)) return Infinity;
    if (Number.isNaN(b)) continue;
    diff += (a - b) * (a - b);
    norm += b * b;
  }
  return norm === 0 ? Math.sqrt(diff) : Math.sqrt(diff / norm);
}

/** op(A)·op(B)·alpha + beta·C in float64; A: [M,K] or [K,M], B: [K,N] or [N,K], values as numbers. */
export function refGemm(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
  alpha = 1,
  beta = 0,
  c?: ArrayLike<number>,
): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        const av = transA ? a[p * m + i]! : a[i * k + p]!;
        const bv = transB ? b[j * k + p]! : b[p * n + j]!;
        s += av * bv;
      }
      out[i * n + j] = alpha * s + (beta !== 0 ? beta * c![i * n + j]! : 0);
    }
  }
  return out;
}

export function refRmsNorm(x: ArrayLike<number>, w: ArrayLike<number>, d: number, eps: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r * d < x.length; r++) {
    let ss = 0;
    for (let j = 0; j < d; j++) ss += x[r * d + j]! ** 2;
    const inv = 1 / Math.sqrt(ss / d + eps);
    for (let j = 0; j < d; j++) out[r * d + j] = x[r * d + j]! * inv * w[j]!;
  }
  return out;
}

/**
 * Rotary embedding reference. The angle follows HF transformers' float32 recipe (inv_freq and
 * position·inv_freq rounded to f32), which is part of the specification; the rotation is float64.
 */
export function refRope(
  x: ArrayLike<number>,
  pos: ArrayLike<number>,
  tokens: number,
  heads: number,
  headDim: number,
  theta: number,
  rotaryDim: number,
): Float64Array {
  const out = Float64Array.from(x as ArrayLike<number>);
  const half = rotaryDim / 2;
  for (let t = 0; t < tokens; t++) {
    for (let i = 0; i < half; i++) {
      const inv = Math.fround(1 / Math.fround(theta ** Math.fround((2 * i) / rotaryDim)));
      const angle = Math.fround(pos[t]! * inv);
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      for (let h = 0; h < heads; h++) {
        const base = (t * heads + h) * headDim;
        const x1 = x[base + i]!;
        const x2 = x[base + i + half]!;
        out[base + i] = x1 * c - x2 * s;
        out[base + i + half] = x2 * c + x1 * s;
      }
    }
  }
  return out;
}

export function refSoftmax(
  x: ArrayLike<number>,
  n: number,
  causal?: { queries: number; offset: number },
): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r * n < x.length; r++) {
    const visible = causal ? Math.max(0, Math.min(n, (r % causal.queries) + causal.offset + 1)) : n;
    let m = -Infinity;
    for (let j = 0; j < visible; j++) m = Math.max(m, x[r * n + j]!);
    let s = 0;
    for (let j = 0; j < visible; j++) s += Math.exp(x[r * n + j]! - m);
    for (let j = 0; j < visible; j++) out[r * n + j] = Math.exp(x[r * n + j]! - m) / s;
  }
  return out;
}

export const refSilu = (v: number): number => v / (1 + Math.exp(-v));

/** Top-k by a full stable sort: value descending, NaN first, −0 == +0, lower index first on ties. */
export function refTopK(row: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: row.length }, (_, i) => i);
  const key = (v: number): number => (Number.isNaN(v) ? Infinity : v);
  idx.sort((a, b) => {
    const va = row[a]!,
      vb = row[b]!;
    if (Number.isNaN(va) && !Number.isNaN(vb)) return -1;
    if (Number.isNaN(vb) && !Number.isNaN(va)) return 1;
    return key(vb) - key(va) || a - b;
  });
  return idx.slice(0, k);
}

/** Reduce axis of x viewed as [outer, len, inner] with f (float64). */
export function refReduce(
  x: ArrayLike<number>,
  shape: number[],
  axis: number,
  f: (values: number[]) => number,
): Float64Array {
  const outer = shape.slice(0, axis).reduce((p, d) => p * d, 1);
  const inner = shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  const len = shape[axis]!;
  const out = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const values: number[] = [];
      for (let a = 0; a < len; a++) values.push(x[(o * len + a) * inner + i]!);
      out[o * inner + i] = f(values);
    }
  }
  return out;
}
