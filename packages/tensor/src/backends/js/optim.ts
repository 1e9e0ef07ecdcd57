import type { AdamStep } from "../../backend.ts";
import type { Tensor } from "../../tensor.ts";

/** Adam in place (see AdamStep), float64 arithmetic, moments and parameters stored as f32. */
export function adamUpdate(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, s: AdamStep): void {
  const p = param.data as Float32Array,
    g = grad.data as Float32Array;
  const ms = m.data as Float32Array,
    vs = v.data as Float32Array;
  const { stepSize, bc2Sqrt, beta1: b1, beta2: b2, eps, cols, rowMask } = s;
  const c1 = 1 - b1,
    c2 = 1 - b2;
  for (let o = 0; o < p.length; o += cols) {
    const end = Math.min(p.length, o + cols);
    if (!rowMask || rowMask[o / cols]) {
      for (let i = o; i < end; i++) {
        const gi = g[i]!;
        const mi = Math.fround(b1 * ms[i]! + c1 * gi);
        const vi = Math.fround(b2 * vs[i]! + c2 * gi * gi);
        ms[i] = mi;
        vs[i] = vi;
        p[i] = p[i]! - stepSize * (mi / (Math.sqrt(vi) / bc2Sqrt + eps));
      }
      if (s.clearGrad) g.fill(0, o, end);
    } else {
      for (let i = o; i < end; i++) {
        const mi = Math.fround(b1 * ms[i]!);
        const vi = Math.fround(b2 * vs[i]!);
        ms[i] = mi;
        vs[i] = vi;
        p[i] = p[i]! - stepSize * (mi / (Math.sqrt(vi) / bc2Sqrt + eps));
      }
    }
  }
}

/** grad[r] −= (grad[r]·w[r])·w[r] (float64 dot) for the rows flagged in rowMask, or all rows. */
export function projectOutRows(grad: Tensor, w: Tensor, rowMask?: Uint8Array): void {
  const g = grad.data as Float32Array,
    ws = w.data as Float32Array;
  const d = w.shape[w.rank - 1]!;
  for (let r = 0, o = 0; o < g.length; r++, o += d) {
    if (rowMask && !rowMask[r]) continue;
    let dot = 0;
    for (let i = o; i < o + d; i++) dot += g[i]! * ws[i]!;
    for (let i = o; i < o + d; i++) g[i] = g[i]! - dot * ws[i]!;
  }
}

/** w[r] ← w[r] / (‖w[r]‖ + eps), float64 norm. */
export function normalizeRows(w: Tensor, eps: number): void {
  const ws = w.data as Float32Array;
  const d = w.shape[w.rank - 1]!;
  for (let o = 0; o < ws.length; o += d) {
    let ss = 0;
    for (let i = o; i < o + d; i++) ss += ws[i]! * ws[i]!;
    const inv = 1 / (Math.sqrt(ss) + eps);
    for (let i = o; i < o + d; i++) ws[i] = ws[i]! * inv;
  }
}
