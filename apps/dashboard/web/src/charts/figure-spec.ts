import type { TopLevelSpec } from "vega-lite";
import type { FigureData } from "../../../src/api/run-types.ts";
import { distinct, figureHead, likelyChartWidth, type Row } from "./figure-common.ts";
import { heatmapSpec } from "./heatmap-spec.ts";
import { THRESHOLD_COLOR } from "./theme.ts";

// Vega-Lite specs for @difflens/plot's figure JSON (kind + tidy rows), drawn like the PNG beside it: same titles and
// axis names, SEM bands as the area between lower and upper, the heatmap's colour scheme chosen from its values.

/** Overrides of a figure's default look where the page shows it small. */
export interface FigureOptions {
  height?: number;
  /** The chart's measured width, for wrapping titles (VegaChart passes it to a spec builder). */
  chartWidth?: number;
  /** Viewport width (default: the window's), to guess the chart's width when it is not measured. */
  viewportWidth?: number;
}

export function figureSpec(fig: FigureData, options: FigureOptions = {}): TopLevelSpec {
  const viewport = options.viewportWidth ?? (globalThis as { innerWidth?: number }).innerWidth ?? 1280;
  const head = figureHead(fig, options.chartWidth ?? likelyChartWidth(viewport));
  switch (fig.kind) {
    case "heatmap":
      return heatmapSpec(fig, head);
    case "lines":
      return linesSpec(fig, head);
    case "bars":
      return barsSpec(fig, head);
    case "histogram":
      return histogramSpec(fig, head, options.height ?? 240);
    case "scatter":
      return scatterFigureSpec(fig, head);
  }
}

function seriesColor(rows: Row[]) {
  const series = distinct(rows, "series");
  return {
    field: "series",
    type: "nominal",
    sort: series,
    title: null,
    legend: series.length > 1 ? { orient: "bottom", direction: "vertical" } : null,
  };
}

/** Dash patterns by series, solid first: a series that lies on another one still shows through its gaps. */
export const SERIES_DASHES: readonly number[][] = [
  [1, 0],
  [7, 4],
  [2, 3],
  [10, 3, 2, 3],
];

function linesSpec(fig: FigureData, head: Record<string, unknown>): TopLevelSpec {
  const series = distinct(fig.rows, "series");
  const color = seriesColor(fig.rows);
  // The legend shows the lines (full colour, dashed like them), not the pale bands, which get none of their own.
  const lineLegend =
    series.length > 1
      ? {
          orient: "bottom",
          direction: "vertical",
          symbolType: "stroke",
          symbolStrokeWidth: 2.5,
          symbolSize: 300,
          symbolOpacity: 1,
        }
      : null;
  const lineColor = { ...color, legend: lineLegend };
  const strokeDash = {
    field: "series",
    type: "nominal",
    sort: series,
    title: null,
    scale: { range: SERIES_DASHES },
    legend: lineLegend,
  };
  const x = { field: "x", type: "quantitative", title: fig.xTitle, axis: { tickMinStep: 1 } };
  const ys = fig.rows.flatMap((r) => [r.y, r.lower, r.upper]).filter((v): v is number => typeof v === "number");
  const crossesZero = ys.some((v) => v < 0) || ys.some((v) => v > 0);
  return {
    ...head,
    width: "container",
    height: 300,
    autosize: { type: "fit-x", contains: "padding" },
    data: { values: fig.rows },
    layer: [
      ...(crossesZero ? [{ mark: { type: "rule", color: THRESHOLD_COLOR }, encoding: { y: { datum: 0 } } }] : []),
      {
        transform: [{ filter: "isValid(datum.lower) && isValid(datum.upper)" }],
        mark: { type: "area", opacity: 0.18 },
        encoding: {
          x,
          y: { field: "lower", type: "quantitative" },
          y2: { field: "upper" },
          color: lineColor,
        },
      },
      {
        mark: { type: "line", point: true, strokeWidth: 2 },
        encoding: {
          x,
          y: { field: "y", type: "quantitative", title: fig.yTitle },
          color: lineColor,
          strokeDash,
          tooltip: [
            { field: "series" },
            { field: "x", type: "quantitative", title: fig.xTitle ?? "x" },
            { field: "y", type: "quantitative", format: ".4f", title: fig.yTitle ?? "y" },
            { field: "lower", type: "quantitative", format: ".4f" },
            { field: "upper", type: "quantitative", format: ".4f" },
          ],
        },
      },
    ],
  } as TopLevelSpec;
}

function barsSpec(fig: FigureData, head: Record<string, unknown>): TopLevelSpec {
  const categories = distinct(fig.rows, "category");
  const series = distinct(fig.rows, "series");
  const x = {
    field: "category",
    type: "nominal",
    sort: categories,
    title: fig.xTitle,
    axis: { labelLimit: 180, labelAngle: categories.some((c) => c.length > 6) ? -30 : 0 },
  };
  const xOffset = { field: "series", type: "nominal", sort: series };
  return {
    ...head,
    width: "container",
    height: 280,
    autosize: { type: "fit-x", contains: "padding" },
    data: { values: fig.rows },
    layer: [
      {
        mark: { type: "bar" },
        encoding: {
          x,
          xOffset,
          y: { field: "value", type: "quantitative", title: fig.yTitle },
          color: seriesColor(fig.rows),
          tooltip: [
            { field: "category" },
            { field: "series" },
            { field: "value", type: "quantitative", format: ".4f" },
            { field: "err", type: "quantitative", format: ".4f", title: "± err" },
          ],
        },
      },
      ...(fig.rows.some((r) => typeof r.err === "number" && r.err > 0) ? [errorBarsLayer(x, xOffset)] : []),
    ],
  } as TopLevelSpec;
}

function errorBarsLayer(x: object, xOffset: object) {
  return {
    transform: [
      { filter: "isValid(datum.err) && datum.err > 0" },
      { calculate: "datum.value - datum.err", as: "lo" },
      { calculate: "datum.value + datum.err", as: "hi" },
    ],
    mark: { type: "rule", color: "#222222" },
    encoding: { x, xOffset, y: { field: "lo", type: "quantitative" }, y2: { field: "hi" } },
  };
}

function histogramSpec(fig: FigureData, head: Record<string, unknown>, height: number): TopLevelSpec {
  return {
    ...head,
    width: "container",
    height,
    autosize: { type: "fit-x", contains: "padding" },
    data: { values: fig.rows },
    mark: { type: "rect", opacity: 0.6, stroke: "white", strokeWidth: 0.5 },
    encoding: {
      x: { field: "binStart", type: "quantitative", title: fig.xTitle, scale: { zero: false } },
      x2: { field: "binEnd" },
      y: { field: "height", type: "quantitative", title: fig.yTitle ?? "count", stack: null },
      color: seriesColor(fig.rows),
      tooltip: [
        { field: "series" },
        { field: "binStart", type: "quantitative", format: ".4g", title: "from" },
        { field: "binEnd", type: "quantitative", format: ".4g", title: "to" },
        { field: "count", type: "quantitative" },
      ],
    },
  } as TopLevelSpec;
}

function scatterFigureSpec(fig: FigureData, head: Record<string, unknown>): TopLevelSpec {
  const x = { field: "x", type: "quantitative", title: fig.xTitle, scale: { zero: false } };
  const y = { field: "y", type: "quantitative", title: fig.yTitle, scale: { zero: false } };
  return {
    ...head,
    width: "container",
    height: 320,
    autosize: { type: "fit-x", contains: "padding" },
    data: { values: fig.rows.map((r) => ({ ...r, group: r.group ?? "" })) },
    layer: [
      {
        mark: { type: "point", filled: true, size: 50 },
        encoding: {
          x,
          y,
          color: {
            field: "group",
            type: "nominal",
            title: null,
            legend: distinct(fig.rows, "group").length > 1 ? {} : null,
          },
          tooltip: [{ field: "label" }, { field: "x", format: ".4f" }, { field: "y", format: ".4f" }],
        },
      },
      {
        transform: [{ filter: "isValid(datum.label)" }],
        mark: { type: "text", dx: 6, align: "left", fontSize: 10 },
        encoding: { x, y, text: { field: "label" } },
      },
    ],
  } as TopLevelSpec;
}

/** A histogram from bin edges and counts (density of a latent, or of all latents per stage), as figure rows. */
export function binsFigure(
  title: string,
  xTitle: string,
  yTitle: string,
  series: { name: string; edges: number[]; counts: number[] }[],
): FigureData {
  const rows = series.flatMap((s) =>
    s.counts.map((count, i) => ({
      series: s.name,
      binStart: s.edges[i]!,
      binEnd: s.edges[i + 1]!,
      count,
      height: count,
    })),
  );
  return { file: "", kind: "histogram", title, subtitle: null, note: null, xTitle, yTitle, rows, png: null };
}
