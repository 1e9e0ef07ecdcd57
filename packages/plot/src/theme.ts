import type { Config } from "vega-lite";
import { FONT_FAMILY } from "./font.ts";

/**
 * Okabe–Ito colours: distinguishable under the common colour-vision deficiencies and in greyscale print.
 * Yellow is last because it is hard to read on white.
 */
export const SERIES_COLORS: readonly string[] = Object.freeze([
  "#0072B2", // blue
  "#D55E00", // vermillion
  "#009E73", // bluish green
  "#CC79A7", // reddish purple
  "#E69F00", // orange
  "#56B4E9", // sky blue
  "#000000", // black
  "#F0E442", // yellow
]);

/** Colour `index` of the palette, cycling when a figure has more series than colours. */
export function seriesColor(index: number): string {
  return SERIES_COLORS[index % SERIES_COLORS.length]!;
}

export const TEXT_COLOR = "#222222";
export const MUTED_COLOR = "#555555";
export const GRID_COLOR = "#e6e6e6";
/** Neutral grey for highlighted x-windows, so no series colour is lost against it. */
export const HIGHLIGHT_FILL = "#e3e3e3";
export const THRESHOLD_COLOR = "#7a7a7a";

export const FONT_SIZES = Object.freeze({
  title: 15,
  subtitle: 12,
  axisTitle: 12,
  label: 11,
  note: 11,
  annotation: 10,
});

/** The shared look of every figure: bundled font, dark text, light grid, no frame around the plot area. */
export function baseConfig(): Config {
  return {
    font: FONT_FAMILY,
    background: "white",
    padding: 12,
    view: { stroke: null },
    title: {
      fontSize: FONT_SIZES.title,
      fontWeight: "bold",
      subtitleFontSize: FONT_SIZES.subtitle,
      subtitleColor: MUTED_COLOR,
      color: TEXT_COLOR,
      anchor: "start",
      offset: 10,
      subtitlePadding: 4,
    },
    axis: {
      labelFontSize: FONT_SIZES.label,
      titleFontSize: FONT_SIZES.axisTitle,
      titleFontWeight: "normal",
      labelColor: TEXT_COLOR,
      titleColor: TEXT_COLOR,
      domainColor: "#888888",
      tickColor: "#888888",
      gridColor: GRID_COLOR,
      titlePadding: 8,
      labelOverlap: true,
    },
    legend: {
      labelFontSize: FONT_SIZES.label,
      titleFontSize: FONT_SIZES.label,
      titleFontWeight: "bold",
      labelColor: TEXT_COLOR,
      titleColor: TEXT_COLOR,
      labelLimit: 260,
      symbolStrokeWidth: 2,
    },
    header: {
      labelFontSize: FONT_SIZES.axisTitle,
      labelFontWeight: "bold",
      labelColor: TEXT_COLOR,
      titleFontSize: FONT_SIZES.axisTitle,
    },
  };
}
