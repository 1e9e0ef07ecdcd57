import { nearest } from "@difflens/common";
import { describeValue, PlotError } from "./errors.ts";
import { type BarsFigure, type BarsSpec, resolveBars } from "./kinds/bars.ts";
import { type HeatmapFigure, type HeatmapSpec, resolveHeatmap } from "./kinds/heatmap.ts";
import { type HistogramFigure, type HistogramSpec, resolveHistogram } from "./kinds/histogram.ts";
import { type LinesFigure, type LinesSpec, resolveLines } from "./kinds/lines.ts";
import { resolveScatter, type ScatterFigure, type ScatterSpec } from "./kinds/scatter.ts";
import { expectObject } from "./validate.ts";

/** A validated, frozen figure ready to render or save. Build one with `heatmap()`, `lines()`, … or `resolveFigure()`. */
export type Figure = HeatmapFigure | LinesFigure | ScatterFigure | BarsFigure | HistogramFigure;
export type FigureKind = Figure["kind"];

/** Any figure spec tagged with its kind, as read from JSON. */
export type FigureSpec =
  | ({ kind: "heatmap" } & HeatmapSpec)
  | ({ kind: "lines" } & LinesSpec)
  | ({ kind: "scatter" } & ScatterSpec)
  | ({ kind: "bars" } & BarsSpec)
  | ({ kind: "histogram" } & HistogramSpec);

const RESOLVERS = {
  heatmap: resolveHeatmap,
  lines: resolveLines,
  scatter: resolveScatter,
  bars: resolveBars,
  histogram: resolveHistogram,
} as const satisfies Record<FigureKind, (input: unknown, path?: string) => Figure>;

const KINDS = Object.keys(RESOLVERS) as FigureKind[];
const resolved = new WeakSet<object>();

function remember<T extends Figure>(fig: T): T {
  resolved.add(fig);
  return fig;
}

/** Annotated heatmap (condition × condition, optionally one panel per layer). */
export function heatmap(spec: HeatmapSpec): HeatmapFigure {
  return remember(resolveHeatmap({ ...spec, kind: "heatmap" }));
}
/** Per-layer lines with error bands, zero line and highlighted windows. */
export function lines(spec: LinesSpec): LinesFigure {
  return remember(resolveLines({ ...spec, kind: "lines" }));
}
/** Scatter with threshold lines and labelled points. */
export function scatter(spec: ScatterSpec): ScatterFigure {
  return remember(resolveScatter({ ...spec, kind: "scatter" }));
}
/** Grouped bars with optional error bars. */
export function bars(spec: BarsSpec): BarsFigure {
  return remember(resolveBars({ ...spec, kind: "bars" }));
}
/** Histogram of one or more overlaid samples. */
export function histogram(spec: HistogramSpec): HistogramFigure {
  return remember(resolveHistogram({ ...spec, kind: "histogram" }));
}

/**
 * Validates any figure spec carrying a `kind` (e.g. parsed from JSON) into a Figure; a Figure passes through.
 * Unknown kinds and fields are rejected with the nearest valid name.
 */
export function resolveFigure(input: unknown): Figure {
  if (typeof input === "object" && input !== null && resolved.has(input)) return input as Figure;
  const obj = expectObject(input, "figure");
  const kind = obj["kind"];
  if (typeof kind !== "string" || !(KINDS as string[]).includes(kind)) {
    const suggestion = typeof kind === "string" ? nearest(kind, KINDS) : undefined;
    throw new PlotError("PLOT_UNKNOWN_KIND", "unknown chart kind", {
      field: "figure.kind",
      expected: KINDS.join(" | "),
      got: describeValue(kind),
      ...(suggestion ? { fix: `Did you mean "${suggestion}"?` } : {}),
    });
  }
  return remember(RESOLVERS[kind as FigureKind](obj, kind));
}
