import { StatsError } from "../errors.ts";
import { type MatrixInput, toMatrix } from "../matrix.ts";

/** Relative spread below which a latent's differences count as identical across prompts. */
export const DEGENERATE_RELATIVE_SPREAD = 1e-6;

/**
 * The paired differences D_pj = a_pj − b_pj of one condition pair, sorted into three kinds of latent:
 * - inactive: D_pj = 0 for every prompt (never fires, or fires identically under both conditions);
 * - degenerate: not inactive, but max_p D_pj − min_p D_pj ≤ 1e-6 · scale_j, where scale_j = max_p max(|a_pj|, |b_pj|)
 *   is the latent's largest activation in this pair — its differences are (numerically) the same in every prompt;
 * - tested: the rest.
 * Kept (= degenerate or tested) latents are stored in float64, prompt-major [P, nKept], so a sign flip touches
 * contiguous rows.
 */
export interface LatentDifferences {
  readonly nPrompts: number;
  readonly nLatents: number;
  /** Indices of non-inactive latents, ascending. */
  readonly kept: Int32Array; // [nKept]
  /** 1 where the kept latent is degenerate. */
  readonly degenerateMask: Uint8Array; // [nKept]
  /** D for the kept latents. */
  readonly differences: Float64Array; // [P, nKept]
  readonly nInactive: number;
}

export function latentDifferences(where: string, a: MatrixInput, b: MatrixInput): LatentDifferences {
  const A = toMatrix(where, "a", a); // [P, nLatents]
  const B = toMatrix(where, "b", b);
  if (A.rows !== B.rows || A.cols !== B.cols) {
    throw new StatsError("LENGTH_MISMATCH", {
      where,
      field: "b",
      expected: `${A.rows} prompts × ${A.cols} latents (the shape of a; rows are paired prompts)`,
      got: `${B.rows} × ${B.cols}`,
    });
  }
  const P = A.rows;
  const n = A.cols;
  if (P < 2) {
    throw new StatsError("SAMPLE_TOO_SMALL", { where, field: "a", expected: "at least 2 prompts (rows)", got: `${P}` });
  }
  const low = new Float64Array(n).fill(Infinity);
  const high = new Float64Array(n).fill(-Infinity);
  const scale = new Float64Array(n);
  const nonzero = new Uint8Array(n);
  for (let p = 0; p < P; p++) {
    const off = p * n;
    for (let j = 0; j < n; j++) {
      const x = A.data[off + j] as number;
      const y = B.data[off + j] as number;
      const d = x - y;
      if (d !== 0) nonzero[j] = 1;
      if (d < (low[j] as number)) low[j] = d;
      if (d > (high[j] as number)) high[j] = d;
      const m = Math.max(Math.abs(x), Math.abs(y));
      if (m > (scale[j] as number)) scale[j] = m;
    }
  }
  const keptList: number[] = [];
  for (let j = 0; j < n; j++) if (nonzero[j]) keptList.push(j);
  const kept = Int32Array.from(keptList);
  const nKept = kept.length;
  const degenerateMask = new Uint8Array(nKept);
  for (let k = 0; k < nKept; k++) {
    const j = kept[k] as number;
    if ((high[j] as number) - (low[j] as number) <= DEGENERATE_RELATIVE_SPREAD * (scale[j] as number))
      degenerateMask[k] = 1;
  }
  const differences = new Float64Array(P * nKept);
  for (let p = 0; p < P; p++) {
    const off = p * n;
    for (let k = 0; k < nKept; k++) {
      const j = kept[k] as number;
      differences[p * nKept + k] = (A.data[off + j] as number) - (B.data[off + j] as number);
    }
  }
  return { nPrompts: P, nLatents: n, kept, degenerateMask, differences, nInactive: n - nKept };
}
