import type { TopLevelSpec } from "vega-lite";
import { PlotError } from "../errors.ts";
import { COMMON_KEYS, type CommonResolved, type CommonSpec, deepFreeze, resolveCommon } from "../figure-common.ts";
import { measureTextWidth } from "../font.ts";
import { FONT_SIZES } from "../theme.ts";
import {
  expectLength,
  expectNonEmpty,
  expectObject,
  join,
  missing,
  NonFiniteLedger,
  numberArray,
  optionalBoolean,
  optionalEnum,
  optionalNumber,
  optionalString,
  rejectUnknownKeys,
  requiredString,
  stringArray,
} from "../validate.ts";
import { resolveDomainOption } from "./domain.ts";
import { formatFixed } from "./format.ts";

export type HeatmapScheme = "viridis" | "blues" | "diverging";

/** One matrix of a heatmap: values[row][col]. */
export interface HeatmapPanel {
  /** Header above the panel, e.g. "Layer 11". */
  title: string;
  /** [rows][cols] */
  values: ArrayLike<number>[];
}

/** An annotated heatmap, optionally one panel per layer sharing labels and a single colour bar. */
export interface HeatmapSpec extends CommonSpec {
  /** Row labels, top to bottom. */
  rowLabels: string[];
  /** Column labels, left to right. */
  colLabels: string[];
  /** A single matrix [rows][cols]; give this or `panels`. */
  values?: ArrayLike<number>[];
  /** Several matrices side by side (e.g. one per layer), one shared colour scale; give this or `values`. */
  panels?: HeatmapPanel[];
  /** Axis title under the columns. */
  xTitle?: string;
  /** Axis title beside the rows. */
  yTitle?: string;
  /** Title of the colour bar. */
  colorTitle?: string;
  /** "viridis" (sequential, default), "blues" (sequential, light→dark), "diverging" (blue–white–red around `colorMid`). */
  scheme?: HeatmapScheme;
  /** Colour scale domain [lo, hi]; default: the data's range (symmetric around `colorMid` for "diverging"). */
  colorDomain?: [number, number];
  /** Centre of a diverging scheme; default 0. */
  colorMid?: number;
  /** Write each value in its cell; default true. */
  showValues?: boolean;
  /** Decimals of the values written in cells; default 2. */
  valueDecimals?: number;
}

export interface HeatmapCell {
  panel: string;
  row: string;
  col: string;
  value: number;
  /** The text written in the cell. */
  text: string;
  /** Black or white, whichever reads on the cell's fill. */
  textColor: string;
}

export interface HeatmapFigure extends CommonResolved {
  kind: "heatmap";
  rowLabels: readonly string[];
  colLabels: readonly string[];
  /** Panel titles in order; [""] for a single unfaceted matrix. */
  panelTitles: readonly string[];
  xTitle: string | undefined;
  yTitle: string | undefined;
  colorTitle: string | undefined;
  scheme: HeatmapScheme;
  colorDomain: readonly [number, number];
  colorMid: number;
  showValues: boolean;
  valueDecimals: number;
  /** Finite cells, row-major per panel. */
  cells: readonly HeatmapCell[];
}

const KEYS = [
  ...COMMON_KEYS,
  "kind",
  "rowLabels",
  "colLabels",
  "values",
  "panels",
  "xTitle",
  "yTitle",
  "colorTitle",
  "scheme",
  "colorDomain",
  "colorMid",
  "showValues",
  "valueDecimals",
];
const CELL_PX = 54;

export function resolveHeatmap(input: unknown, path = "heatmap"): HeatmapFigure {
  const obj = expectObject(input, path);
  rejectUnknownKeys(obj, KEYS, path);
  if (obj["rowLabels"] === undefined) throw missing(obj, "rowLabels", path, "an array of strings");
  if (obj["colLabels"] === undefined) throw missing(obj, "colLabels", path, "an array of strings");
  const rowLabels = stringArray(obj["rowLabels"], join(path, "rowLabels"), { nonEmpty: true, unique: true });
  const colLabels = stringArray(obj["colLabels"], join(path, "colLabels"), { nonEmpty: true, unique: true });
  const common = resolveCommon(obj, path, { width: CELL_PX * colLabels.length, height: CELL_PX * rowLabels.length });

  if (obj["values"] !== undefined && obj["panels"] !== undefined) {
    throw new PlotError("PLOT_CONFLICTING_FIELDS", "give either values (one matrix) or panels (several), not both", {
      field: join(path, "values"),
      fix: "Move the single matrix into panels: [{ title, values }].",
    });
  }
  const rawPanels: { title: string; values: unknown; path: string }[] = [];
  if (obj["panels"] !== undefined) {
    const panelsPath = join(path, "panels");
    if (!Array.isArray(obj["panels"]))
      throw new PlotError("PLOT_INVALID_VALUE", "must be an array", {
        field: panelsPath,
        expected: "an array of { title, values }",
      });
    expectNonEmpty(obj["panels"].length, panelsPath, "at least one panel");
    obj["panels"].forEach((p, i) => {
      const pPath = join(panelsPath, i);
      const panel = expectObject(p, pPath);
      rejectUnknownKeys(panel, ["title", "values"], pPath);
      const title = requiredString(panel, "title", pPath);
      if (rawPanels.some((q) => q.title === title)) {
        throw new PlotError("PLOT_INVALID_VALUE", `duplicate panel title "${title}"`, {
          field: join(pPath, "title"),
          fix: "Panel titles must be unique.",
        });
      }
      if (panel["values"] === undefined) throw missing(panel, "values", pPath, "a matrix [rows][cols]");
      rawPanels.push({ title, values: panel["values"], path: join(pPath, "values") });
    });
  } else if (obj["values"] !== undefined) {
    rawPanels.push({ title: "", values: obj["values"], path: join(path, "values") });
  } else {
    throw missing(obj, "values", path, "a matrix [rows][cols] (or panels)");
  }

  const ledger = new NonFiniteLedger(common.nonFinite);
  const matrices = rawPanels.map((panel) => {
    if (!Array.isArray(panel.values))
      throw new PlotError("PLOT_INVALID_VALUE", "must be a matrix (array of rows)", {
        field: panel.path,
        expected: `${rowLabels.length} rows`,
      });
    expectLength(panel.values.length, rowLabels.length, panel.path, "rowLabels");
    return panel.values.map((row, r) => {
      const rowPath = join(panel.path, r);
      const numbers = numberArray(row, rowPath);
      expectLength(numbers.length, colLabels.length, rowPath, "colLabels");
      return numbers;
    });
  });

  const scheme = optionalEnum(obj, "scheme", path, ["viridis", "blues", "diverging"] as const) ?? "viridis";
  const colorMid = optionalNumber(obj, "colorMid", path) ?? 0;
  const valueDecimals = optionalNumber(obj, "valueDecimals", path, { min: 0, max: 10, integer: true }) ?? 2;
  const finiteValues: number[] = [];
  const kept: { panel: string; r: number; c: number; value: number }[] = [];
  matrices.forEach((matrix, p) => {
    const panel = rawPanels[p]!;
    matrix.forEach((row, r) =>
      row.forEach((value, c) => {
        const where = panel.title ? `panel "${panel.title}"` : "values";
        if (!ledger.accept([value], [join(panel.path, r)], c, where)) return;
        finiteValues.push(value);
        kept.push({ panel: panel.title, r, c, value });
      }),
    );
  });
  if (finiteValues.length === 0) {
    throw new PlotError("PLOT_EMPTY_DATA", "has no finite value to draw", {
      field: rawPanels[0]!.path,
      expected: "at least one finite cell",
      got: "none",
    });
  }

  let colorDomain = resolveDomainOption(obj, "colorDomain", path);
  if (!colorDomain) {
    const lo = Math.min(...finiteValues);
    const hi = Math.max(...finiteValues);
    if (scheme === "diverging") {
      const reach = Math.max(Math.abs(lo - colorMid), Math.abs(hi - colorMid)) || 1;
      colorDomain = [colorMid - reach, colorMid + reach];
    } else {
      colorDomain = lo === hi ? [lo - 0.5, hi + 0.5] : [lo, hi];
    }
  }
  const domain = colorDomain;
  const cells: HeatmapCell[] = kept.map(({ panel, r, c, value }) => ({
    panel,
    row: rowLabels[r]!,
    col: colLabels[c]!,
    value,
    text: formatFixed(value, valueDecimals),
    textColor: readableTextColor(scheme, value, domain, colorMid),
  }));

  return deepFreeze({
    kind: "heatmap" as const,
    ...common,
    dropped: ledger.dropped(),
    rowLabels,
    colLabels,
    panelTitles: rawPanels.map((p) => p.title),
    xTitle: optionalString(obj, "xTitle", path),
    yTitle: optionalString(obj, "yTitle", path),
    colorTitle: optionalString(obj, "colorTitle", path),
    scheme,
    colorDomain: domain,
    colorMid,
    showValues: optionalBoolean(obj, "showValues", path) ?? true,
    valueDecimals,
    cells,
  });
}

/**
 * White text on the dark end of the scheme, near-black elsewhere. The thresholds follow each scheme's lightness:
 * viridis is dark below ~55% of its range, "blues" dark above ~55%, the diverging scheme dark at both far ends.
 */
function readableTextColor(
  scheme: HeatmapScheme,
  value: number,
  [lo, hi]: readonly [number, number],
  mid: number,
): string {
  const t = Math.min(1, Math.max(0, (value - lo) / (hi - lo)));
  const dark = "#111111";
  const light = "#ffffff";
  if (scheme === "viridis") return t < 0.55 ? light : dark;
  if (scheme === "blues") return t > 0.55 ? light : dark;
  const reach = Math.max(hi - mid, mid - lo);
  return Math.abs(value - mid) / reach > 0.65 ? light : dark;
}

export function heatmapToVegaLite(fig: HeatmapFigure): TopLevelSpec {
  const labelWidth = Math.max(...fig.colLabels.map((l) => measureTextWidth(l, FONT_SIZES.label)));
  const cellWidth = fig.width / fig.colLabels.length;
  const rotate = labelWidth > cellWidth - 6;
  const faceted = fig.panelTitles.length > 1 || fig.panelTitles[0] !== "";
  const colorScale =
    fig.scheme === "diverging"
      ? { scheme: "redblue", reverse: true, domain: [...fig.colorDomain], domainMid: fig.colorMid }
      : { scheme: fig.scheme, domain: [...fig.colorDomain] };
  const cellsLayer = {
    name: "cells",
    mark: { type: "rect", stroke: "white", strokeWidth: 1 },
    encoding: {
      color: {
        field: "value",
        type: "quantitative",
        scale: colorScale,
        legend: {
          title: fig.colorTitle ?? null,
          gradientLength: Math.max(80, fig.height),
          gradientThickness: 14,
          tickCount: 5,
        },
      },
    },
  };
  const valuesLayer = {
    name: "cell_values",
    mark: { type: "text", fontSize: FONT_SIZES.annotation + (cellWidth >= 50 ? 1 : 0) },
    // A condition rather than `scale: null`: vega-lite 6 fails to compile an unscaled colour field inside a facet.
    encoding: {
      text: { field: "text", type: "nominal" },
      color: { condition: { test: "datum.textColor === '#ffffff'", value: "#ffffff" }, value: "#111111" },
    },
  };
  const inner = {
    width: fig.width,
    height: fig.height,
    encoding: {
      x: {
        field: "col",
        type: "nominal",
        sort: [...fig.colLabels],
        title: fig.xTitle ?? null,
        axis: {
          labelAngle: rotate ? -40 : 0,
          labelAlign: rotate ? "right" : "center",
          labelOverlap: false,
          ticks: false,
          domain: false,
          labelLimit: 180,
        },
      },
      y: {
        field: "row",
        type: "nominal",
        sort: [...fig.rowLabels],
        title: fig.yTitle ?? null,
        axis: { ticks: false, domain: false, labelLimit: 220 },
      },
    },
    layer: fig.showValues ? [cellsLayer, valuesLayer] : [cellsLayer],
  };
  const data = { values: fig.cells.map((c) => ({ ...c })) };
  if (!faceted) return { data, ...inner } as TopLevelSpec;
  return {
    data,
    facet: {
      column: { field: "panel", type: "nominal", sort: [...fig.panelTitles], title: null, header: { labelPadding: 6 } },
    },
    spacing: 18,
    spec: inner,
  } as TopLevelSpec;
}

export function heatmapRows(fig: HeatmapFigure): Record<string, string | number>[] {
  return fig.cells.map((c) => ({ panel: c.panel, row: c.row, col: c.col, value: c.value }));
}
