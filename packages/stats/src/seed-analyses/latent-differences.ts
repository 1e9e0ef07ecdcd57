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
  // Pass 1 over everything: which latents differ anywhere (an SAE's latents are mostly silent).
  const nonzero = new Uint8Array(n);
  for (let p = 0; p < P; p++) {
    const off = p * n;
    for (let j = 0; j < n; j++) if (A.data[off + j] !== B.data[off + j]) nonzero[j] = 1;
  }
  const keptList: number[] = [];
  for (let j = 0; j < n; j++) if (nonzero[j]) keptList.push(j);
  const kept = Int32Array.from(keptList);
  const nKept = kept.length;
  // Pass 2 over the kept latents only: differences, spread and scale.
  const differences = new Float64Array(P * nKept);
  const low = new Float64Array(nKept).fill(Infinity);
  const high = new Float64Array(nKept).fill(-Infinity);
  const scale = new Float64Array(nKept);
  for (let p = 0; p < P; p++) {
    const off = p * n;
    for (let k = 0; k < nKept; k++) {
      const x = A.data[off + (kept[k] as number)] as number;
      const y = B.data[off + (kept[k] as number)] as number;
      const d = x - y;
      differences[p * nKept + k] = d;
      if (d < (low[k] as number)) low[k] = d;
      if (d > (high[k] as number)) high[k] = d;
      const m = Math.max(Math.abs(x), Math.abs(y));
      if (m > (scale[k] as number)) scale[k] = m;
    }
  }
  const degenerateMask = new Uint8Array(nKept);
  for (let k = 0; k < nKept; k++)
    if ((high[k] as number) - (low[k] as number) <= DEGENERATE_RELATIVE_SPREAD * (scale[k] as number))
      degenerateMask[k] = 1;
  return { nPrompts: P, nLatents: n, kept, degenerateMask, differences, nInactive: n - nKept };
}
