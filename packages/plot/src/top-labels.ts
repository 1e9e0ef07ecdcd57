import { PlotError } from "./errors.ts";

/**
 * Labels for a scatter's `labels` field: the `k` ids with the smallest (or largest) score get their id as label,
 * every other point null. Ties break by position, so the choice is deterministic.
 * E.g. the two-stage comparison labels the latents with the lowest cos_smf + cos_sdf.
 */
export function topLabels(
  ids: ArrayLike<string | number>,
  scores: ArrayLike<number>,
  k: number,
  order: "smallest" | "largest" = "smallest",
): (string | null)[] {
  if (ids.length !== scores.length) {
    throw new PlotError("PLOT_LENGTH_MISMATCH", "ids and scores differ in length", {
      field: "scores",
      expected: `${ids.length}`,
      got: `${scores.length}`,
    });
  }
  if (!(Number.isInteger(k) && k >= 0))
    throw new PlotError("PLOT_INVALID_VALUE", "k must be a non-negative integer", { field: "k", got: String(k) });
  const sign = order === "smallest" ? 1 : -1;
  const finite = Array.from({ length: scores.length }, (_, i) => i).filter((i) => Number.isFinite(scores[i]!));
  finite.sort((a, b) => sign * (scores[a]! - scores[b]!) || a - b);
  const chosen = new Set(finite.slice(0, k));
  return Array.from({ length: ids.length }, (_, i) => (chosen.has(i) ? String(ids[i]) : null));
}
