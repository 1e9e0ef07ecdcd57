/** What the webgpu SAE kernel tests share: shapes, tolerance, the k-sparse code fixture. */
import { Rng, randn, Tensor } from "../src/index.ts";

/** Latents, model width, rows, latents per row: small and odd (d > one workgroup of 64 threads). */
export const V = 300,
  D = 67,
  ROWS = 19,
  K = 5;
/** Relative error ‖a − b‖ / ‖b‖ allowed per output (f32 summation order; js sums dz and Adam in float64). */
export const TOL = 1e-5;

export const rand = (shape: number[], seed: number, std = 1): Tensor => randn(shape, new Rng(seed), std);
export const f32 = (t: Tensor): Float32Array => t.data as Float32Array;
export const clone = (t: Tensor): Tensor => new Tensor(t.dtype, t.shape, (t.data as Float32Array | Int32Array).slice());

/**
 * A k-sparse code: per row k distinct latents, mostly from a pool of 40 (so latents repeat across rows), some from
 * all of V; values mostly positive, with exact zeros, −0, negatives and NaN (inactive pairs). Row 0 repeats its
 * first latent (the interface allows it; top-k never does) and row 1 is all inactive.
 */
export function sparseCode(seed: number, rows = ROWS, k = K, v = V): { indices: Tensor; values: Tensor } {
  const rng = new Rng(seed);
  const idx = new Int32Array(rows * k),
    val = new Float32Array(rows * k);
  for (let r = 0; r < rows; r++) {
    const picked = new Set<number>();
    while (picked.size < k) picked.add(rng.nextFloat() < 0.7 ? rng.int(Math.min(40, v)) : rng.int(v));
    [...picked].forEach((j, c) => {
      const u = rng.nextFloat();
      idx[r * k + c] = j;
      val[r * k + c] =
        u < 0.05 ? 0 : u < 0.08 ? -0 : u < 0.15 ? -rng.nextFloat() : u < 0.2 ? Number.NaN : 0.1 + rng.nextFloat();
    });
  }
  if (rows > 1 && k > 1) {
    idx[1] = idx[0]!;
    val[0] = 0.5;
    val[1] = 0.25;
    val.fill(-1, k, 2 * k);
  }
  return { indices: new Tensor("i32", [rows, k], idx), values: new Tensor("f32", [rows, k], val) };
}
