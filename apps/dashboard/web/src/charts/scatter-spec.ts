import type { TopLevelSpec } from "vega-lite";
import type { ScatterResponse } from "../../../src/api/diffing-types.ts";
import { SCHEMA, wrapText } from "./figure-common.ts";
import { chartConfig, SERIES_COLORS, THRESHOLD_COLOR } from "./theme.ts";

/** Labels are drawn for the latents with stored contexts only while they stay readable. */
export const MAX_SCATTER_LABELS = 40;
const HEIGHT = 420;

/**
 * The points' range with 6 % padding on each side. The view fits the points, not the threshold: cosines cluster near
 * 1 and a domain down to the threshold would squash them into a corner; zooming out shows the threshold rules.
 */
export function paddedExtent(values: number[]): [number, number] {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return [0, 1];
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  const pad = (hi - lo || Math.abs(hi) || 1) * 0.06;
  return [lo - pad, hi + pad];
}

/**
 * The two-stage scatter: one symbol per latent (x = cos(D, DF), y = cos(M, MF)), the threshold rules, labels on the
 * latents with contexts, and an interval selection bound to the scales (drag to pan, wheel to zoom). The layer names
 * become SVG classes the browser tests use: `.latent_points_marks path`, `.latent_labels_marks text`.
 */
export function scatterSpec(
  scatter: ScatterResponse,
  options: { showThreshold?: boolean; chartWidth?: number } = {},
): TopLevelSpec {
  const withThreshold = (values: number[]) => (options.showThreshold ? [...values, scatter.threshold] : values);
  const tooltip = [
    { field: "latent", type: "quantitative", title: "latent" },
    { field: "rank", type: "quantitative", title: "rank" },
    { field: "x", type: "quantitative", title: scatter.xTitle, format: ".4f" },
    { field: "y", type: "quantitative", title: scatter.yTitle, format: ".4f" },
  ];
  const labelled = scatter.points.filter((p) => p.hasContexts).length;
  const values = scatter.points.map((p) => ({ ...p, group: p.hasContexts ? "with contexts" : "other" }));
  // Axis titles wrapped to the plot's side (about 6.6 px a character at 12 px): a phone's width clips them otherwise.
  const plotWidth = (options.chartWidth ?? 600) - 70;
  const axis = (title: string, values: number[], length: number) => ({
    type: "quantitative" as const,
    title: wrapText(title, Math.max(20, Math.floor(length / 6.6))),
    scale: { zero: false, nice: false, domain: paddedExtent(withThreshold(values)) },
  });
  return {
    $schema: SCHEMA,
    config: chartConfig(),
    width: "container",
    height: HEIGHT,
    autosize: { type: "fit-x", contains: "padding" },
    data: { values },
    layer: [
      {
        name: "threshold_x",
        mark: { type: "rule", color: THRESHOLD_COLOR, strokeDash: [5, 4], clip: true },
        encoding: { x: { datum: scatter.threshold } },
      },
      {
        name: "threshold_y",
        mark: { type: "rule", color: THRESHOLD_COLOR, strokeDash: [5, 4], clip: true },
        encoding: { y: { datum: scatter.threshold } },
      },
      {
        name: "latent_points",
        params: [{ name: "zoom", select: "interval", bind: "scales" }],
        mark: { type: "point", filled: true, size: 64, opacity: 0.85, cursor: "pointer", clip: true },
        encoding: {
          x: {
            field: "x",
            ...axis(
              scatter.xTitle,
              scatter.points.map((p) => p.x),
              plotWidth,
            ),
          },
          y: {
            field: "y",
            ...axis(
              scatter.yTitle,
              scatter.points.map((p) => p.y),
              HEIGHT,
            ),
          },
          color: {
            field: "group",
            type: "nominal",
            scale: { domain: ["with contexts", "other"], range: [SERIES_COLORS[1]!, SERIES_COLORS[0]!] },
            legend: null,
          },
          shape: {
            field: "group",
            type: "nominal",
            scale: { domain: ["with contexts", "other"], range: ["diamond", "circle"] },
            legend: null,
          },
          tooltip,
        },
      },
      ...(labelled > 0 && labelled <= MAX_SCATTER_LABELS
        ? [
            {
              name: "latent_labels",
              transform: [{ filter: "datum.hasContexts" }],
              mark: {
                type: "text" as const,
                dx: 7,
                align: "left" as const,
                fontSize: 10,
                color: "#222222",
                cursor: "pointer",
                clip: true,
              },
              encoding: {
                x: { field: "x", type: "quantitative" as const },
                y: { field: "y", type: "quantitative" as const },
                text: { field: "latent", type: "nominal" as const },
                // A tooltip makes vega-lite keep the labels interactive, so a click on a label opens its latent.
                tooltip,
              },
            },
          ]
        : []),
    ],
  } as TopLevelSpec;
}
