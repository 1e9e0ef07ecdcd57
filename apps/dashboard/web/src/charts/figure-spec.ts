import type { TopLevelSpec } from "vega-lite";
import type { FigureData } from "../../../src/api/run-types.ts";
import { chartConfig, THRESHOLD_COLOR } from "./theme.ts";

// Vega-Lite specs for @difflens/plot's figure JSON (kind + tidy rows), drawn like the PNG beside it: same titles and
// axis names, SEM bands as the area between lower and upper, the heatmap's colour scheme chosen from its values.

type Row = Record<string, unknown>;
const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

/**
 * Titles wrapped to the chart's likely width: vega does not wrap them, and with width "container" a long line would
 * shrink the plot (autosize fits the whole drawing, titles included) or overflow a phone's screen.
 */
function base(fig: FigureData, chartWidth: number): Record<string, unknown> {
  const title: Record<string, unknown> = { text: fig.title ? wrapText(fig.title, Math.floor(chartWidth / 8.5)) : "" };
  if (fig.subtitle) title.subtitle = wrapText(fig.subtitle, Math.floor(chartWidth / 6.2));
  return { $schema: SCHEMA, config: chartConfig(), title };
}

/** The width a figure card gives its chart: a column of the figure grid, or the whole phone screen less margins. */
export function likelyChartWidth(viewportWidth: number): number {
  return Math.max(240, Math.min(viewportWidth - 70, 600));
}

/** Splits a long line at spaces into lines of at most about `width` characters (vega titles do not wrap). */
export function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") lines.push(line);
  return lines;
}

function distinct(rows: Row[], field: string): string[] {
  return [...new Set(rows.map((r) => String(r[field] ?? "")))];
}

/** Overrides of a figure's default look where the page shows it small. */
export interface FigureOptions {
  height?: number;
  /** Viewport width (default: the window's), for wrapping titles. */
  viewportWidth?: number;
}

export function figureSpec(fig: FigureData, options: FigureOptions = {}): TopLevelSpec {
  const viewport = options.viewportWidth ?? (globalThis as { innerWidth?: number }).innerWidth ?? 1280;
  const head = base(fig, likelyChartWidth(viewport));
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

export type HeatmapScheme = "viridis" | "blues" | "diverging";

/** The plot package's choice made from the values: diverging around 0 for signed data, blues for 0/1 gates. */
export function heatmapScheme(values: number[]): HeatmapScheme {
  const finite = values.filter(Number.isFinite);
  if (finite.some((v) => v < 0) && finite.some((v) => v > 0)) return "diverging";
  if (finite.length > 0 && finite.every((v) => v === 0 || v === 1)) return "blues";
  return "viridis";
}

/** Whether a cell's value text should be white: over the dark end of the scheme, for contrast. */
export function heatmapTextIsLight(scheme: HeatmapScheme, t: number): boolean {
  if (scheme === "viridis") return t < 0.55;
  if (scheme === "blues") return t > 0.6;
  return Math.abs(t - 0.5) > 0.3;
}

function heatmapSpec(fig: FigureData, head: Record<string, unknown>): TopLevelSpec {
  const values = fig.rows.map((r) => Number(r.value));
  const scheme = heatmapScheme(values);
  const finite = values.filter(Number.isFinite);
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (scheme === "diverging") {
    hi = Math.max(Math.abs(lo), Math.abs(hi));
    lo = -hi;
  }
  const span = hi - lo || 1;
  const rows = fig.rows.map((r) => {
    const v = Number(r.value);
    return { ...r, label: Number.isFinite(v) ? v.toFixed(2) : "", light: heatmapTextIsLight(scheme, (v - lo) / span) };
  });
  const colLabels = distinct(fig.rows, "col");
  const rowLabels = distinct(fig.rows, "row");
  const scale =
    scheme === "diverging"
      ? { scheme: "redblue", reverse: true, domain: [lo, hi], domainMid: 0 }
      : { scheme, domain: [lo, hi] };
  const layers = {
    encoding: {
      x: {
        field: "col",
        type: "nominal",
        sort: colLabels,
        title: fig.xTitle,
        axis: { labelAngle: colLabels.some((c) => c.length > 4) ? -40 : 0 },
      },
      y: { field: "row", type: "nominal", sort: rowLabels, title: fig.yTitle },
    },
    layer: [
      {
        mark: { type: "rect" },
        encoding: {
          color: { field: "value", type: "quantitative", scale, title: "value", legend: { orient: "right" } },
          tooltip: [
            { field: "row", title: fig.yTitle ?? "row" },
            { field: "col", title: fig.xTitle ?? "column" },
            { field: "value", type: "quantitative", format: ".4f" },
          ],
        },
      },
      {
        mark: { type: "text", fontSize: 10 },
        encoding: {
          text: { field: "label" },
          color: { condition: { test: "datum.light", value: "white" }, value: "#111111" },
        },
      },
    ],
  };
  const panels = distinct(fig.rows, "panel");
  const cell = {
    width: Math.max(120, Math.min(420, colLabels.length * 34)),
    height: Math.max(60, rowLabels.length * 22),
  };
  if (panels.length > 1) {
    return {
      ...head,
      data: { values: rows },
      facet: { column: { field: "panel", type: "nominal", sort: panels, title: null } },
      spec: { ...cell, ...layers },
      resolve: { scale: { color: "shared" } },
    } as TopLevelSpec;
  }
  return { ...head, data: { values: rows }, ...cell, ...layers } as TopLevelSpec;
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

function linesSpec(fig: FigureData, head: Record<string, unknown>): TopLevelSpec {
  const color = seriesColor(fig.rows);
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
        encoding: { x, y: { field: "lower", type: "quantitative" }, y2: { field: "upper" }, color },
      },
      {
        mark: { type: "line", point: true, strokeWidth: 2 },
        encoding: {
          x,
          y: { field: "y", type: "quantitative", title: fig.yTitle },
          color,
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
