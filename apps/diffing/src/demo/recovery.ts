/**
 * The demo's recovery check. The chat model's planted change writes u into the residual stream at every chat
 * position, so latents that rotated in both steps (D→DF and M→MF) should have rotated along u. Stack the
 * decoder changes DF_i − D_i and MF_i − M_i of the top-ranked latents; their leading right singular vector must
 * lie along u (|cos| ≥ threshold). Single latents are reported too: a change on every chat position spreads over
 * many token features, so no single latent need carry u alone.
 */
import type { Sae } from "@difflens/sae";
import { cosine, leadingRightSingularVector } from "../compare/leading-direction.ts";

export interface RecoveryReport {
  readonly topLatents: readonly number[];
  /** |cos(leading direction of the stacked changes, u)|. */
  readonly leadingCos: number;
  readonly explained: number;
  readonly passed: boolean;
  readonly threshold: number;
  /** Per top latent: its rank (1-based) and decoder cosines with u. */
  readonly perLatent: ReadonlyArray<{
    latent: number;
    rank: number;
    cosDF: number;
    cosMF: number;
    cosChangeDF: number;
    cosChangeMF: number;
  }>;
  /** The latent (any rank) whose DF or MF decoder row is most aligned with u. */
  readonly bestSingle: { latent: number; rank: number; cos: number; stage: "DF" | "MF" };
}

export function checkRecovery(
  saes: Readonly<Record<"D" | "M" | "DF" | "MF", Sae>>,
  ranking: readonly number[],
  planted: ArrayLike<number>,
  topK: number,
  threshold = 0.9,
): RecoveryReport {
  const d = saes.D.dIn;
  const top = ranking.slice(0, topK);
  const row = (sae: Sae, i: number) => sae.weights.wDec.subarray(i * d, (i + 1) * d);
  const diff = (a: Float32Array, b: Float32Array) => Float64Array.from(a, (v, j) => v - b[j]!);
  const stack: Float64Array[] = [];
  const perLatent = top.map((latent, r) => {
    const cDF = diff(row(saes.DF, latent), row(saes.D, latent));
    const cMF = diff(row(saes.MF, latent), row(saes.M, latent));
    stack.push(cDF, cMF);
    return {
      latent,
      rank: r + 1,
      cosDF: cosine(row(saes.DF, latent), planted),
      cosMF: cosine(row(saes.MF, latent), planted),
      cosChangeDF: cosine(cDF, planted),
      cosChangeMF: cosine(cMF, planted),
    };
  });
  const lead = leadingRightSingularVector(stack, d);
  const leadingCos = Math.abs(cosine(lead.direction, planted));
  const rankOf = new Map(ranking.map((latent, r) => [latent, r + 1]));
  let bestSingle = { latent: -1, rank: 0, cos: 0, stage: "DF" as "DF" | "MF" };
  for (const stage of ["DF", "MF"] as const) {
    for (let i = 0; i < saes.D.dSae; i++) {
      const c = Math.abs(cosine(row(saes[stage], i), planted));
      if (c > bestSingle.cos) bestSingle = { latent: i, rank: rankOf.get(i) ?? 0, cos: c, stage };
    }
  }
  return {
    topLatents: top,
    leadingCos,
    explained: lead.explained,
    passed: leadingCos >= threshold,
    threshold,
    perLatent,
    bestSingle,
  };
}
