import type { TopLevelSpec } from "vega-lite";
import type { FigureData } from "../../../src/api/run-types.ts";
import { formatSignificant } from "../format.ts";
import { distinct } from "./figure-common.ts";

// The heatmap of @difflens/plot (kinds/heatmap.ts) from its rows: cells with their values written in, one panel per
// `panel` sharing one colour scale, the scheme chosen from the values as the plot's callers choose it.

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

export function heatmapSpec(fig: FigureData, head: Record<string, unknown>): TopLevelSpec {
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
    return {
      ...r,
      label: Number.isFinite(v) ? formatSignificant(v) : "",
      light: heatmapTextIsLight(scheme, (v - lo) / span),
    };
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
            { field: "value", type: "quantitative", format: ".3~g" },
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
  // Cells as wide as their longest value text (10 px font, ~6 px a character): the card scrolls sideways on a phone
  // instead of shrinking the drawing and its text.
  const longestLabel = Math.max(4, ...rows.map((r) => r.label.length));
  const cell = {
    width: Math.max(120, colLabels.length * Math.max(34, longestLabel * 6 + 8)),
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
