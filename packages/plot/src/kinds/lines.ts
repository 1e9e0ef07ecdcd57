import type { TopLevelSpec } from "vega-lite";
import { PlotError } from "../errors.ts";
import { COMMON_KEYS, type CommonResolved, type CommonSpec, deepFreeze, resolveCommon } from "../figure-common.ts";
import { FONT_SIZES, HIGHLIGHT_FILL, seriesColor } from "../theme.ts";
import {
  checkNumber,
  expectLength,
  expectNonEmpty,
  expectObject,
  join,
  missing,
  NonFiniteLedger,
  numberArray,
  optionalBoolean,
  optionalNumber,
  optionalString,
  rejectUnknownKeys,
  requiredString,
} from "../validate.ts";
import { resolveDomainOption } from "./domain.ts";
import { type ReferenceLine, referenceLineLayers, resolveReferenceLines } from "./reference-lines.ts";

/** One line. Give `err` for a symmetric band (y ± err, e.g. SEM) or `lower` and `upper` for any interval. */
export interface LineSeries {
  name: string;
  /** [points] */
  y: ArrayLike<number>;
  /** Half-width of the band at each point (SEM, std, CI half-width). [points] */
  err?: ArrayLike<number>;
  /** Lower edge of the band. [points] */
  lower?: ArrayLike<number>;
  /** Upper edge of the band. [points] */
  upper?: ArrayLike<number>;
  /** Draw the line dashed (e.g. a baseline or base-model curve). */
  dashed?: boolean;
}

/** A shaded x-range such as a contiguous layer window passing a gate. */
export interface Highlight {
  from: number;
  to: number;
  label?: string;
}

/** Several series over a shared x (layers), with error bands, a zero line and highlighted x-windows. */
export interface LinesSpec extends CommonSpec {
  /** Shared x of every series, e.g. layer indices; default 0, 1, …, n−1. [points] */
  x?: ArrayLike<number>;
  series: LineSeries[];
  xTitle?: string;
  yTitle?: string;
  /** Draw a solid line at y = 0; default false. */
  zeroLine?: boolean;
  /** Shaded x-windows. On integer x (layers) a window [a, b] covers a−0.5 … b+0.5 so one-layer windows show. */
  highlights?: Highlight[];
  /** Horizontal reference lines, e.g. a gate threshold. */
  yLines?: (number | { value: number; label?: string })[];
  /** Dots at each point; default: on when a series has ≤ 40 points. */
  points?: boolean;
  /** Opacity of error bands; default 0.18. */
  bandOpacity?: number;
  /** y-axis range [lo, hi]; default: fitted to lines and bands. */
  yDomain?: [number, number];
}

export interface LinePoint {
  series: string;
  x: number;
  y: number;
  lower: number | null;
  upper: number | null;
}

export interface LinesFigure extends CommonResolved {
  kind: "lines";
  seriesNames: readonly string[];
  dashed: readonly boolean[];
  /** Finite points of every series, in series order. */
  points: readonly LinePoint[];
  xTitle: string | undefined;
  yTitle: string | undefined;
  zeroLine: boolean;
  highlights: readonly Highlight[];
  yLines: readonly ReferenceLine[];
  showPoints: boolean;
  bandOpacity: number;
  /** Every x is an integer (layers): integer ticks, windows padded by half a step. */
  integerX: boolean;
  xDomain: readonly [number, number];
  yDomain: readonly [number, number] | undefined;
}

const KEYS = [
  ...COMMON_KEYS,
  "kind",
  "x",
  "series",
  "xTitle",
  "yTitle",
  "zeroLine",
  "highlights",
  "yLines",
  "points",
  "bandOpacity",
  "yDomain",
];
const SERIES_KEYS = ["name", "y", "err", "lower", "upper", "dashed"];

export function resolveLines(input: unknown, path = "lines"): LinesFigure {
  const obj = expectObject(input, path);
  rejectUnknownKeys(obj, KEYS, path);
  const common = resolveCommon(obj, path, { width: 520, height: 300 });
  if (obj["series"] === undefined) throw missing(obj, "series", path, "an array of { name, y }");
  const seriesPath = join(path, "series");
  if (!Array.isArray(obj["series"]))
    throw new PlotError("PLOT_INVALID_VALUE", "must be an array", {
      field: seriesPath,
      expected: "an array of { name, y }",
    });
  expectNonEmpty(obj["series"].length, seriesPath, "at least one series");
  const rawX = obj["x"] === undefined ? undefined : numberArray(obj["x"], join(path, "x"));
  if (rawX) {
    expectNonEmpty(rawX.length, join(path, "x"));
    rawX.forEach((v, i) => checkNumber(v, join(join(path, "x"), i)));
  }

  const ledger = new NonFiniteLedger(common.nonFinite);
  const names: string[] = [];
  const dashed: boolean[] = [];
  const points: LinePoint[] = [];
  obj["series"].forEach((raw, s) => {
    const sPath = join(seriesPath, s);
    const series = expectObject(raw, sPath);
    rejectUnknownKeys(series, SERIES_KEYS, sPath);
    const name = requiredString(series, "name", sPath);
    if (names.includes(name))
      throw new PlotError("PLOT_INVALID_VALUE", `duplicate series name "${name}"`, {
        field: join(sPath, "name"),
        fix: "Series names must be unique.",
      });
    names.push(name);
    dashed.push(optionalBoolean(series, "dashed", sPath) ?? false);
    if (series["y"] === undefined) throw missing(series, "y", sPath, "an array of numbers");
    const y = numberArray(series["y"], join(sPath, "y"));
    expectNonEmpty(y.length, join(sPath, "y"));
    const x = rawX ?? y.map((_, i) => i);
    expectLength(y.length, x.length, join(sPath, "y"), rawX ? "x" : "y");
    if (series["err"] !== undefined && (series["lower"] !== undefined || series["upper"] !== undefined)) {
      throw new PlotError("PLOT_CONFLICTING_FIELDS", "give err (symmetric band) or lower and upper, not both", {
        field: join(sPath, "err"),
      });
    }
    if ((series["lower"] === undefined) !== (series["upper"] === undefined)) {
      throw new PlotError("PLOT_MISSING_FIELD", "lower and upper come together", {
        field: join(sPath, series["lower"] === undefined ? "lower" : "upper"),
      });
    }
    const columns: number[][] = [y];
    const fields = [join(sPath, "y")];
    for (const key of ["err", "lower", "upper"]) {
      if (series[key] === undefined) continue;
      const column = numberArray(series[key], join(sPath, key));
      expectLength(column.length, x.length, join(sPath, key), rawX ? "x" : "y");
      columns.push(column);
      fields.push(join(sPath, key));
    }
    x.forEach((xi, i) => {
      const values = columns.map((c) => c[i]!);
      if (!ledger.accept(values, fields, i, `series "${name}"`)) return;
      let lower: number | null = null;
      let upper: number | null = null;
      if (series["err"] !== undefined) {
        if (values[1]! < 0)
          throw new PlotError("PLOT_INVALID_VALUE", "must be ≥ 0 (a half-width)", {
            field: `${join(sPath, "err")}[${i}]`,
            got: String(values[1]),
          });
        lower = values[0]! - values[1]!;
        upper = values[0]! + values[1]!;
      } else if (series["lower"] !== undefined) {
        lower = values[1]!;
        upper = values[2]!;
      }
      points.push({ series: name, x: xi, y: values[0]!, lower, upper });
    });
  });
  if (points.length === 0)
    throw new PlotError("PLOT_EMPTY_DATA", "no finite point in any series", { field: seriesPath });

  const highlights = resolveHighlights(obj["highlights"], join(path, "highlights"));
  const allX = rawX ?? points.map((p) => p.x);
  const integerX = allX.every((v) => Number.isInteger(v));
  const pad = integerX ? 0.5 : 0;
  // Half a step of air on integer x (layers) so the first and last points do not sit on the axes.
  const xs = [
    ...allX.map((v) => v - pad),
    ...allX.map((v) => v + pad),
    ...highlights.flatMap((h) => [h.from - pad, h.to + pad]),
  ];
  const xDomain: [number, number] = [Math.min(...xs), Math.max(...xs)];
  const maxPoints = Math.max(...names.map((n) => points.filter((p) => p.series === n).length));

  return deepFreeze({
    kind: "lines" as const,
    ...common,
    dropped: ledger.dropped(),
    seriesNames: names,
    dashed,
    points,
    xTitle: optionalString(obj, "xTitle", path),
    yTitle: optionalString(obj, "yTitle", path),
    zeroLine: optionalBoolean(obj, "zeroLine", path) ?? false,
    highlights,
    yLines: resolveReferenceLines(obj["yLines"], join(path, "yLines")),
    showPoints: optionalBoolean(obj, "points", path) ?? maxPoints <= 40,
    bandOpacity: optionalNumber(obj, "bandOpacity", path, { min: 0, max: 1 }) ?? 0.18,
    integerX,
    xDomain: xDomain[0] === xDomain[1] ? [xDomain[0] - 1, xDomain[1] + 1] : xDomain,
    yDomain: resolveDomainOption(obj, "yDomain", path),
  });
}

function resolveHighlights(value: unknown, path: string): Highlight[] {
  if (value === undefined) return [];
  if (!Array.isArray(value))
    throw new PlotError("PLOT_INVALID_VALUE", "must be an array of { from, to, label? }", { field: path });
  return value.map((raw, i) => {
    const hPath = join(path, i);
    const h = expectObject(raw, hPath);
    rejectUnknownKeys(h, ["from", "to", "label"], hPath);
    const from = checkNumber(h["from"], join(hPath, "from"));
    const to = checkNumber(h["to"], join(hPath, "to"));
    if (to < from)
      throw new PlotError("PLOT_INVALID_VALUE", "must have from ≤ to", { field: hPath, got: `from ${from}, to ${to}` });
    const label = optionalString(h, "label", hPath);
    return label === undefined ? { from, to } : { from, to, label };
  });
}

export function linesToVegaLite(fig: LinesFigure): TopLevelSpec {
  const pad = fig.integerX ? 0.5 : 0;
  const colorScale = { domain: [...fig.seriesNames], range: fig.seriesNames.map((_, i) => seriesColor(i)) };
  const multi = fig.seriesNames.length > 1;
  const x = {
    field: "x",
    type: "quantitative",
    title: fig.xTitle ?? null,
    scale: { domain: [...fig.xDomain], nice: false, zero: false },
    axis: fig.integerX ? { tickMinStep: 1, format: "d", grid: false } : { grid: false },
  };
  const yScale = fig.yDomain ? { domain: [...fig.yDomain], nice: false, zero: false } : { zero: false, nice: true };
  const y = { field: "y", type: "quantitative", title: fig.yTitle ?? null, scale: yScale };
  const data = fig.points.map((p) => ({ ...p }));
  const layers: object[] = [];
  if (fig.highlights.length > 0) {
    layers.push({
      name: "highlights",
      data: { values: fig.highlights.map((h) => ({ from: h.from - pad, to: h.to + pad, label: h.label ?? "" })) },
      mark: { type: "rect", color: HIGHLIGHT_FILL, opacity: 0.5, clip: true },
      encoding: { x: { field: "from", type: "quantitative" }, x2: { field: "to" } },
    });
    layers.push({
      name: "highlight_labels",
      data: { values: fig.highlights.filter((h) => h.label).map((h) => ({ at: (h.from + h.to) / 2, label: h.label })) },
      mark: { type: "text", baseline: "top", y: 4, fontSize: FONT_SIZES.annotation, color: "#555555" },
      encoding: { x: { field: "at", type: "quantitative" }, text: { field: "label", type: "nominal" } },
    });
  }
  if (fig.zeroLine) {
    layers.push({
      name: "zero_line",
      data: { values: [{ y: 0 }] },
      mark: { type: "rule", color: "#444444", strokeWidth: 1 },
      encoding: { y: { field: "y", type: "quantitative" } },
    });
  }
  layers.push(...referenceLineLayers(fig.yLines, "y", "y_lines"));
  const banded = data
    .filter((p) => p.lower !== null)
    .map((p) => ({ ...p, bandColor: seriesColor(fig.seriesNames.indexOf(p.series)) }));
  if (banded.length > 0) {
    layers.push({
      name: "bands",
      data: { values: banded },
      mark: { type: "area", opacity: fig.bandOpacity },
      encoding: {
        x,
        y: { ...y, field: "lower" },
        y2: { field: "upper" },
        // Unscaled colours keep the faint bands out of the legend; `legend: null` here would disable the merged legend.
        fill: { field: "bandColor", type: "nominal", scale: null },
      },
    });
  }
  const anyDashed = fig.dashed.some((d) => d);
  layers.push({
    name: "lines",
    data: { values: data },
    mark: { type: "line", strokeWidth: 2 },
    encoding: {
      x,
      y,
      color: {
        field: "series",
        type: "nominal",
        scale: colorScale,
        legend: multi
          ? {
              title: null,
              orient: "right",
              symbolType: "stroke",
              symbolOpacity: 1,
              symbolStrokeWidth: 2.5,
              symbolSize: 300,
            }
          : null,
        sort: [...fig.seriesNames],
      },
      ...(anyDashed
        ? {
            strokeDash: {
              field: "series",
              type: "nominal",
              scale: { domain: [...fig.seriesNames], range: fig.dashed.map((d) => (d ? [6, 4] : [1, 0])) },
              legend: multi ? { title: null } : null,
            },
          }
        : {}),
    },
  });
  if (fig.showPoints) {
    layers.push({
      name: "points",
      data: { values: data },
      mark: { type: "point", filled: true, size: 22, opacity: 1 },
      encoding: { x, y, color: { field: "series", type: "nominal", scale: colorScale } },
    });
  }
  return {
    width: fig.width,
    height: fig.height,
    layer: layers,
    resolve: { scale: { color: "shared" } },
  } as unknown as TopLevelSpec;
}

export function linesRows(fig: LinesFigure): Record<string, string | number | null>[] {
  return fig.points.map((p) => ({ series: p.series, x: p.x, y: p.y, lower: p.lower, upper: p.upper }));
}
