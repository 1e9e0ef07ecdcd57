import { type DroppedCount, type NonFinitePolicy, optionalEnum, optionalNumber, optionalString } from "./validate.ts";

/** Fields every chart kind accepts. */
export interface CommonSpec {
  /** Bold title above the figure. */
  title?: string;
  /** Smaller grey line under the title (sample sizes, model, seed). */
  subtitle?: string;
  /** Footnote under the figure, word-wrapped to its width; dropped-value counts are appended to it. */
  note?: string;
  /** Width of the plot area in px (one panel for faceted heatmaps); axes, legend and titles add to it. */
  width?: number;
  /** Height of the plot area in px. */
  height?: number;
  /** NaN / ±Infinity in the data: "error" (default) throws PLOT_NON_FINITE, "drop" leaves the point out and says so in the note. */
  nonFinite?: NonFinitePolicy;
}

export const COMMON_KEYS = ["title", "subtitle", "note", "width", "height", "nonFinite"] as const;

/** Common fields after validation, with defaults filled and the dropped-value ledger attached. */
export interface CommonResolved {
  title: string | undefined;
  subtitle: string | undefined;
  note: string | undefined;
  width: number;
  height: number;
  nonFinite: NonFinitePolicy;
  /** Points left out because of NaN / ±Infinity (only under nonFinite: "drop"). */
  dropped: readonly DroppedCount[];
}

export function resolveCommon(
  obj: Record<string, unknown>,
  path: string,
  defaults: { width: number; height: number },
): Omit<CommonResolved, "dropped"> {
  return {
    title: optionalString(obj, "title", path),
    subtitle: optionalString(obj, "subtitle", path),
    note: optionalString(obj, "note", path),
    width: optionalNumber(obj, "width", path, { min: 20, max: 4000 }) ?? defaults.width,
    height: optionalNumber(obj, "height", path, { min: 20, max: 4000 }) ?? defaults.height,
    nonFinite: optionalEnum(obj, "nonFinite", path, ["error", "drop"] as const) ?? "error",
  };
}

/** The footnote a figure shows: the caller's note, then one sentence per group of dropped values. */
export function noteText(fig: CommonResolved): string | undefined {
  const parts: string[] = [];
  if (fig.note) parts.push(fig.note);
  for (const reason of ["non-finite", "outside extent"] as const) {
    const group = fig.dropped.filter((d) => d.reason === reason);
    if (group.length === 0) continue;
    const total = group.reduce((sum, d) => sum + d.count, 0);
    const detail = group.map((d) => `${d.where}: ${d.count}`).join("; ");
    const what = reason === "non-finite" ? "non-finite value" : "value";
    const why = reason === "non-finite" ? " (NaN/±Infinity)" : " outside the histogram's extent";
    parts.push(`Not shown: ${total} ${what}${total === 1 ? "" : "s"}${why} — ${detail}.`);
  }
  return parts.length > 0 ? parts.join("\n") : undefined;
}

/** Deep-freezes a resolved figure so no caller can mutate what was validated. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    for (const inner of Object.values(value as Record<string, unknown>)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
