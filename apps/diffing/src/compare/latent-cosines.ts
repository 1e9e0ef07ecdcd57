/**
 * Per-latent rotation between stages: the cosine of latent i's decoder row (and encoder row) in two SAEs of one
 * lineage. No matching is needed — every stage descends from S, so latent i is the same feature everywhere.
 */
import type { Sae } from "@difflens/sae";
import type { StageName } from "../config/diffing-config.ts";

/** cos(a_i, b_i) for every row i of two [rows, d] matrices (float64 accumulation; 0-norm rows give NaN). */
export function rowCosines(a: Float32Array, b: Float32Array, d: number): Float64Array {
  const rows = a.length / d;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let ab = 0,
      aa = 0,
      bb = 0;
    for (let i = r * d; i < (r + 1) * d; i++) {
      const x = a[i]!,
        y = b[i]!;
      ab += x * y;
      aa += x * x;
      bb += y * y;
    }
    out[r] = ab / Math.sqrt(aa * bb);
  }
  return out;
}

export const PAIRS = [
  ["S", "D"],
  ["S", "M"],
  ["D", "DF"],
  ["M", "MF"],
] as const;
export type PairName = "S_D" | "S_M" | "D_DF" | "M_MF";

export interface LatentCosines {
  readonly decoder: Readonly<Record<PairName, Float64Array>>;
  readonly encoder: Readonly<Record<PairName, Float64Array>>;
}

export function latentCosines(saes: Readonly<Record<StageName, Sae>>): LatentCosines {
  const decoder = {} as Record<PairName, Float64Array>;
  const encoder = {} as Record<PairName, Float64Array>;
  for (const [p, c] of PAIRS) {
    const key = `${p}_${c}` as PairName;
    decoder[key] = rowCosines(saes[p].weights.wDec, saes[c].weights.wDec, saes[p].dIn);
    encoder[key] = rowCosines(saes[p].weights.wEnc, saes[c].weights.wEnc, saes[p].dIn);
  }
  return { decoder, encoder };
}

/**
 * The two-stage ranking: latents sorted by cos(D, DF) + cos(M, MF), smallest first (rotated in both steps: the
 * chat model meeting chat data). Ties break by latent index; NaN (a dead, zero row) sorts last.
 */
export function twoStageRanking(dDf: Float64Array, mMf: Float64Array): number[] {
  const score = (i: number) => {
    const s = dDf[i]! + mMf[i]!;
    return Number.isNaN(s) ? Infinity : s;
  };
  return Array.from({ length: dDf.length }, (_, i) => i).sort((a, b) => score(a) - score(b) || a - b);
}
