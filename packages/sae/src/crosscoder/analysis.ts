import type { Crosscoder } from "./crosscoder.ts";

/** Where a latent's relative decoder norm puts it. */
export type NormBand = "base-only" | "shared" | "chat-only" | "other";

/**
 * Bands of the relative decoder norm r = ‖d^chat‖ / (‖d^base‖ + ‖d^chat‖) (inclusive bounds). Defaults as in Minder,
 * Dumas et al. 2025: base-only r ≤ 0.1, shared 0.4 ≤ r ≤ 0.6, chat-only r ≥ 0.9; everything else "other".
 */
export interface NormBands {
  baseOnlyMax: number;
  sharedMin: number;
  sharedMax: number;
  chatOnlyMin: number;
}
export const DEFAULT_NORM_BANDS: Readonly<NormBands> = Object.freeze({
  baseOnlyMax: 0.1,
  sharedMin: 0.4,
  sharedMax: 0.6,
  chatOnlyMin: 0.9,
});

/** [dSae] r_j = ‖d_j^chat‖ / (‖d_j^base‖ + ‖d_j^chat‖); NaN for a latent whose decoders are both zero. */
export function relativeDecoderNorms(cc: Crosscoder): Float64Array {
  const { base, chat } = cc.norms;
  const r = new Float64Array(base.length);
  for (let j = 0; j < r.length; j++) {
    const s = base[j]! + chat[j]!;
    r[j] = s > 0 ? chat[j]! / s : Number.NaN;
  }
  return r;
}

export function normBand(r: number, bands: NormBands = DEFAULT_NORM_BANDS): NormBand {
  if (r <= bands.baseOnlyMax) return "base-only";
  if (r >= bands.chatOnlyMin) return "chat-only";
  if (r >= bands.sharedMin && r <= bands.sharedMax) return "shared";
  return "other";
}

/** Latent ids per band (NaN latents are in none). */
export function latentsByBand(rel: Float64Array, bands: NormBands = DEFAULT_NORM_BANDS): Record<NormBand, number[]> {
  const out: Record<NormBand, number[]> = { "base-only": [], shared: [], "chat-only": [], other: [] };
  for (let j = 0; j < rel.length; j++) if (!Number.isNaN(rel[j]!)) out[normBand(rel[j]!, bands)].push(j);
  return out;
}

/** Histogram of relative norms over [0, 1] in `bins` equal bins (r = 1 goes in the last); NaN skipped. */
export function relativeNormHistogram(rel: Float64Array, bins = 20): { edges: number[]; counts: number[] } {
  const counts = new Array<number>(bins).fill(0);
  for (const r of rel) if (!Number.isNaN(r)) counts[Math.min(bins - 1, Math.max(0, Math.floor(r * bins)))]! += 1;
  return { edges: Array.from({ length: bins + 1 }, (_, i) => i / bins), counts };
}

/** cos(d_j^base, d_j^chat) per latent in `latents` (NaN when either decoder is zero). */
export function decoderCosines(cc: Crosscoder, latents: readonly number[]): Float64Array {
  const out = new Float64Array(latents.length);
  latents.forEach((j, q) => {
    const b = cc.decoderRow(j, "base"),
      c = cc.decoderRow(j, "chat");
    let dot = 0;
    for (let i = 0; i < b.length; i++) dot += b[i]! * c[i]!;
    const den = cc.norms.base[j]! * cc.norms.chat[j]!;
    out[q] = den > 0 ? dot / den : Number.NaN;
  });
  return out;
}
