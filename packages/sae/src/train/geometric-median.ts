/**
 * Geometric median of the rows of x [n, d] by Weiszfeld's algorithm (the b_dec initialisation of
 * openai/sparse_autoencoder): y ← Σ wᵢxᵢ / Σ wᵢ with wᵢ = 1 / max(‖xᵢ − y‖, eps), started at the mean,
 * stopped after `maxIters` or when y moves less than `tol`·(1 + ‖y‖). Computed in float64.
 */
export function geometricMedian(
  x: Float32Array,
  n: number,
  d: number,
  maxIters = 100,
  tol = 1e-7,
  eps = 1e-8,
): Float32Array {
  const y = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let i = 0; i < d; i++) y[i]! += x[r * d + i]!;
  for (let i = 0; i < d; i++) y[i]! /= Math.max(n, 1);
  const next = new Float64Array(d);
  for (let it = 0; it < maxIters; it++) {
    next.fill(0);
    let wSum = 0;
    for (let r = 0; r < n; r++) {
      let dist2 = 0;
      for (let i = 0; i < d; i++) {
        const t = x[r * d + i]! - y[i]!;
        dist2 += t * t;
      }
      const w = 1 / Math.max(Math.sqrt(dist2), eps);
      wSum += w;
      for (let i = 0; i < d; i++) next[i]! += w * x[r * d + i]!;
    }
    let move = 0,
      norm = 0;
    for (let i = 0; i < d; i++) {
      const v = next[i]! / wSum;
      move += (v - y[i]!) ** 2;
      norm += v * v;
      y[i] = v;
    }
    if (Math.sqrt(move) < tol * (1 + Math.sqrt(norm))) break;
  }
  return Float32Array.from(y);
}
