import type { Config } from "vega-lite";

// The look of @difflens/plot's figures (packages/plot/src/theme.ts), restated here because that package pulls Node
// dependencies into the bundle: Okabe–Ito series colours, dark text, light grid, no frame.
export const SERIES_COLORS: readonly string[] = [
  "#0072B2",
  "#D55E00",
  "#009E73",
  "#CC79A7",
  "#E69F00",
  "#56B4E9",
  "#000000",
  "#F0E442",
];
export const THRESHOLD_COLOR = "#7a7a7a";
export const TEXT_COLOR = "#222222";
export const MUTED_COLOR = "#555555";

export function chartConfig(): Config {
  return {
    font: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    background: "white",
    // The chart's wrapper carries the text alternative and hides the SVG from assistive technology.
    aria: false,
    padding: 8,
    view: { stroke: null },
    title: { fontSize: 14, anchor: "start", color: TEXT_COLOR, subtitleColor: MUTED_COLOR, subtitleFontSize: 11 },
    axis: {
      labelFontSize: 11,
      titleFontSize: 12,
      titleFontWeight: "normal",
      labelColor: TEXT_COLOR,
      titleColor: TEXT_COLOR,
      gridColor: "#e6e6e6",
      domainColor: "#888888",
      tickColor: "#888888",
    },
    legend: {
      labelLimit: 360,
      labelFontSize: 11,
      titleFontSize: 11,
      labelColor: TEXT_COLOR,
      titleColor: TEXT_COLOR,
      orient: "bottom",
    },
    header: { labelFontSize: 12, labelColor: TEXT_COLOR, titleFontSize: 12 },
    range: { category: [...SERIES_COLORS] },
  };
}
