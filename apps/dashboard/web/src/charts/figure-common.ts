import type { FigureData } from "../../../src/api/run-types.ts";
import { chartConfig } from "./theme.ts";

// What every figure spec shares: the schema, the config, titles wrapped to the chart's width, distinct row values.

export type Row = Record<string, unknown>;
export const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

/**
 * Titles wrapped to the chart's likely width: vega does not wrap them, and with width "container" a long line would
 * shrink the plot (autosize fits the whole drawing, titles included) or overflow a phone's screen.
 */
export function figureHead(fig: FigureData, chartWidth: number): Record<string, unknown> {
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

export function distinct(rows: Row[], field: string): string[] {
  return [...new Set(rows.map((r) => String(r[field] ?? "")))];
}
