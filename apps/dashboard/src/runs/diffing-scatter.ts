/**
 * The two-stage scatter of a diffing run: one point per latent of compare/latents.json, x = cos(D, DF) and
 * y = cos(M, MF) of the decoder (or encoder) rows, rank by x + y ascending (`rank`, or `enc_rank` for the encoder),
 * `hasContexts` for the latents features/features.json stored contexts for. A missing features.json only costs the
 * labels (an error panel says why); a missing compare/latents.json leaves no points. A dead latent's cosines are
 * NaN (null in the JSON): it has no direction and no point.
 */
import type { ScatterPoint, ScatterResponse } from "../api/diffing-types.ts";
import type { ErrorPanel } from "../api/run-types.ts";
import { loadCompareTable, loadFeaturesFile } from "./diffing-files.ts";
import type { DiscoveredRun } from "./discovered-run.ts";

const TITLES = {
  decoder: {
    x: "cos(D, DF) of decoder rows: model changes on chat data",
    y: "cos(M, MF) of decoder rows: data changes on the chat model",
  },
  encoder: {
    x: "cos(D, DF) of encoder rows: model changes on chat data",
    y: "cos(M, MF) of encoder rows: data changes on the chat model",
  },
} as const;

export async function diffingScatter(run: DiscoveredRun, space: "decoder" | "encoder"): Promise<ScatterResponse> {
  const errors: ErrorPanel[] = [];
  const table = await loadCompareTable(run, errors);
  const features = await loadFeaturesFile(run, errors);
  const withContexts = new Set(features?.latents.map((l) => l.latent) ?? []);
  const prefix = space === "decoder" ? "dec" : "enc";
  const points: ScatterPoint[] = [];
  for (const row of table?.latents ?? []) {
    const x = row[`${prefix}_D_DF`];
    const y = row[`${prefix}_M_MF`];
    const rank = space === "decoder" ? row.rank : row.enc_rank;
    if (typeof x !== "number" || typeof y !== "number" || !Number.isFinite(x) || !Number.isFinite(y)) continue;
    points.push({ latent: row.latent!, x, y, rank: rank ?? 0, hasContexts: withContexts.has(row.latent!) });
  }
  return {
    run: run.id,
    space,
    dSae: table?.dSae ?? 0,
    hook: table?.hook ?? "",
    threshold: table?.threshold ?? 0.7,
    xTitle: TITLES[space].x,
    yTitle: TITLES[space].y,
    points: points.sort((a, b) => a.rank - b.rank),
    errors,
  };
}
