import type { Figure } from "./figure.ts";
import { noteText } from "./figure-common.ts";
import { barsRows } from "./kinds/bars.ts";
import { heatmapRows } from "./kinds/heatmap.ts";
import { histogramRows } from "./kinds/histogram.ts";
import { linesRows } from "./kinds/lines.ts";
import { scatterRows } from "./kinds/scatter.ts";

export type DataRow = Record<string, string | number | null>;

/** The numbers a figure draws, one tidy row per mark (cell, point, bar, bin), exactly as plotted. */
export function figureRows(fig: Figure): DataRow[] {
  switch (fig.kind) {
    case "heatmap":
      return heatmapRows(fig);
    case "lines":
      return linesRows(fig);
    case "scatter":
      return scatterRows(fig);
    case "bars":
      return barsRows(fig);
    case "histogram":
      return histogramRows(fig);
  }
}

/** The figure's data as a JSON document: kind, titles, the note shown, dropped counts, and the rows. */
export function figureJson(fig: Figure): string {
  const document = {
    kind: fig.kind,
    title: fig.title ?? null,
    subtitle: fig.subtitle ?? null,
    note: noteText(fig) ?? null,
    dropped: fig.dropped,
    ...("xTitle" in fig ? { xTitle: fig.xTitle ?? null } : {}),
    ...("yTitle" in fig ? { yTitle: fig.yTitle ?? null } : {}),
    ...(fig.kind === "histogram" ? { edges: fig.edges, normalize: fig.normalize } : {}),
    rows: figureRows(fig),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** The figure's rows as RFC 4180 CSV (header from the first row; numbers at full precision; null as empty). */
export function figureCsv(fig: Figure): string {
  const rows = figureRows(fig);
  const columns = rows.length > 0 ? Object.keys(rows[0]!) : [];
  const lines = [columns.map(csvField).join(",")];
  for (const row of rows) lines.push(columns.map((c) => csvField(row[c] ?? null)).join(","));
  return `${lines.join("\r\n")}\r\n`;
}

function csvField(value: string | number | null): string {
  if (value === null) return "";
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
