// @difflens/plot: figures (heatmap, lines with bands, scatter, bars, histograms) to SVG, PNG and PDF.
export { PlotError, type PlotErrorCode, type PlotErrorFacts } from "./errors.ts";
export {
  bars,
  type Figure,
  type FigureKind,
  type FigureSpec,
  heatmap,
  histogram,
  lines,
  resolveFigure,
  scatter,
} from "./figure.ts";
export type { CommonSpec } from "./figure-common.ts";
export { type DataRow, figureCsv, figureJson, figureRows } from "./figure-data.ts";
export { bundledFontFiles, FONT_FAMILY } from "./font.ts";
export type { Bar, BarSeries, BarsFigure, BarsSpec } from "./kinds/bars.ts";
export type { HeatmapCell, HeatmapFigure, HeatmapPanel, HeatmapScheme, HeatmapSpec } from "./kinds/heatmap.ts";
export type {
  HistogramBin,
  HistogramFigure,
  HistogramNormalize,
  HistogramSeries,
  HistogramSpec,
} from "./kinds/histogram.ts";
export type { Highlight, LinePoint, LineSeries, LinesFigure, LinesSpec } from "./kinds/lines.ts";
export type { ReferenceLine } from "./kinds/reference-lines.ts";
export type { ScatterFigure, ScatterLabel, ScatterPoint, ScatterSpec } from "./kinds/scatter.ts";
export { renderPdf, svgToPdf } from "./render/pdf.ts";
export { type PngOptions, renderPng, svgToPng } from "./render/png.ts";
export { compileFigure, renderSvg } from "./render/svg.ts";
export { type ImageFormat, type SaveFigureOptions, saveFigure } from "./save-figure.ts";
export { SERIES_COLORS } from "./theme.ts";
export { toVegaLite } from "./to-vega-lite.ts";
export { topLabels } from "./top-labels.ts";
export type { DroppedCount, DropReason, NonFinitePolicy } from "./validate.ts";
