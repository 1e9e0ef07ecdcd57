/**
 * Adam exactly as torch.optim.Adam (1.13, single-tensor path, no amsgrad, no weight decay) computes it:
 *   m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
 *   p ← p − (lr / (1−β1^t)) · m / (√v / √(1−β2^t) + ε)
 * Dense over every parameter — including latents with no gradient this step, whose moments still
 * decay and whose weights still move — because that is what the reference optimizer does.
 */
export interface AdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** 1-based step count after this update. */
  t: number;
}

/** Update a flat parameter with its full gradient. p, g, m, v: same length. */
export function adamUpdate(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, h: AdamHyper): void {
  const { beta1: b1, beta2: b2, eps } = h;
  const stepSize = h.lr / (1 - b1 ** h.t);
  const bc2Sqrt = Math.sqrt(1 - b2 ** h.t);
  const c1 = 1 - b1, c2 = 1 - b2;
  for (let i = 0; i < p.length; i++) {
    const gi = g[i]!;
    const mi = b1 * m[i]! + c1 * gi;
    const vi = b2 * v[i]! + c2 * gi * gi;
    m[i] = mi; v[i] = vi;
    p[i] = p[i]! - stepSize * (Math.fround(mi) / (Math.sqrt(Math.fround(vi)) / bc2Sqrt + eps));
  }
}

/**
 * Row-blocked update of a [rows, cols] matrix whose gradient is zero outside the rows flagged in
 * `touched`: those rows skip reading g (the zero-gradient form of the same formula), and the
 * gradient rows that were read are cleared for the next step.
 */
export function adamUpdateRows(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, cols: number, touched: Uint8Array, h: AdamHyper): void {
  const { beta1: b1, beta2: b2, eps } = h;
  const stepSize = h.lr / (1 - b1 ** h.t);
  const bc2Sqrt = Math.sqrt(1 - b2 ** h.t);
  const c1 = 1 - b1, c2 = 1 - b2;
  const rows = touched.length;
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    if (touched[r]) {
      for (let i = o; i < o + cols; i++) {
        const gi = g[i]!;
        const mi = b1 * m[i]! + c1 * gi;
        const vi = b2 * v[i]! + c2 * gi * gi;
        m[i] = mi; v[i] = vi;
        p[i] = p[i]! - stepSize * (Math.fround(mi) / (Math.sqrt(Math.fround(vi)) / bc2Sqrt + eps));
        g[i] = 0;
      }
    } else {
      for (let i = o; i < o + cols; i++) {
        const mi = b1 * m[i]!;
        const vi = b2 * v[i]!;
        m[i] = mi; v[i] = vi;
        p[i] = p[i]! - stepSize * (Math.fround(mi) / (Math.sqrt(Math.fround(vi)) / bc2Sqrt + eps));
      }
    }
  }
}
