import type { TopLevelSpec } from "vega-lite";
import { PlotError } from "../errors.ts";
import { COMMON_KEYS, type CommonResolved, type CommonSpec, deepFreeze, resolveCommon } from "../figure-common.ts";
import { measureTextWidth } from "../font.ts";
import { FONT_SIZES, seriesColor } from "../theme.ts";
import {
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
  stringArray,
} from "../validate.ts";
import { resolveDomainOption } from "./domain.ts";
import { formatFixed } from "./format.ts";

/** One colour of bars: a value per category, with optional error bars (± err). */
export interface BarSeries {
  name: string;
  /** [categories] */
  values: ArrayLike<number>;
  /** Half-length of the error bar (SEM, CI half-width). [categories] */
  err?: ArrayLike<number>;
}

/** Grouped bars: categories along x, one bar per series inside each category. */
export interface BarsSpec extends CommonSpec {
  /** Category labels along x, left to right. */
  categories: string[];
  series: BarSeries[];
  xTitle?: string;
  yTitle?: string;
  /** Write each bar's value at its end; default false. */
  showValues?: boolean;
  /** Decimals of written values; default 2. */
  valueDecimals?: number;
  /** y-axis range; default: from zero to the data, padded. */
  yDomain?: [number, number];
}

export interface Bar {
  category: string;
  series: string;
  value: number;
  err: number | null;
  /** Text written at the bar's end ("" when showValues is off). */
  text: string;
}

export interface BarsFigure extends CommonResolved {
  kind: "bars";
  categories: readonly string[];
  seriesNames: readonly string[];
  bars: readonly Bar[];
  xTitle: string | undefined;
  yTitle: string | undefined;
  showValues: boolean;
  valueDecimals: number;
  yDomain: readonly [number, number] | undefined;
}

const KEYS = [
  ...COMMON_KEYS,
  "kind",
  "categories",
  "series",
  "xTitle",
  "yTitle",
  "showValues",
  "valueDecimals",
  "yDomain",
];

export function resolveBars(input: unknown, path = "bars"): BarsFigure {
  const obj = expectObject(input, path);
  rejectUnknownKeys(obj, KEYS, path);
  if (obj["categories"] === undefined) throw missing(obj, "categories", path, "an array of strings");
  const categories = stringArray(obj["categories"], join(path, "categories"), { nonEmpty: true, unique: true });
  if (obj["series"] === undefined) throw missing(obj, "series", path, "an array of { name, values }");
  const seriesPath = join(path, "series");
  if (!Array.isArray(obj["series"]))
    throw new PlotError("PLOT_INVALID_VALUE", "must be an array", {
      field: seriesPath,
      expected: "an array of { name, values }",
    });
  expectNonEmpty(obj["series"].length, seriesPath, "at least one series");
  const perGroup = obj["series"].length;
  const common = resolveCommon(obj, path, {
    width: Math.max(260, categories.length * (perGroup * 22 + 26)),
    height: 280,
  });
  const showValues = optionalBoolean(obj, "showValues", path) ?? false;
  const valueDecimals = optionalNumber(obj, "valueDecimals", path, { min: 0, max: 10, integer: true }) ?? 2;

  const ledger = new NonFiniteLedger(common.nonFinite);
  const names: string[] = [];
  const bars: Bar[] = [];
  obj["series"].forEach((raw, s) => {
    const sPath = join(seriesPath, s);
    const series = expectObject(raw, sPath);
    rejectUnknownKeys(series, ["name", "values", "err"], sPath);
    const name = requiredString(series, "name", sPath);
    if (names.includes(name))
      throw new PlotError("PLOT_INVALID_VALUE", `duplicate series name "${name}"`, { field: join(sPath, "name") });
    names.push(name);
    if (series["values"] === undefined) throw missing(series, "values", sPath, "an array of numbers, one per category");
    const values = numberArray(series["values"], join(sPath, "values"));
    expectLength(values.length, categories.length, join(sPath, "values"), "categories");
    const err = series["err"] === undefined ? undefined : numberArray(series["err"], join(sPath, "err"));
    if (err) expectLength(err.length, categories.length, join(sPath, "err"), "categories");
    categories.forEach((category, i) => {
      const columns = err ? [values[i]!, err[i]!] : [values[i]!];
      if (!ledger.accept(columns, [join(sPath, "values"), join(sPath, "err")], i, `series "${name}"`)) return;
      if (err && err[i]! < 0)
        throw new PlotError("PLOT_INVALID_VALUE", "must be ≥ 0 (a half-length)", {
          field: `${join(sPath, "err")}[${i}]`,
          got: String(err[i]),
        });
      bars.push({
        category,
        series: name,
        value: values[i]!,
        err: err ? err[i]! : null,
        text: showValues ? formatFixed(values[i]!, valueDecimals) : "",
      });
    });
  });
  if (bars.length === 0) throw new PlotError("PLOT_EMPTY_DATA", "no finite bar value", { field: seriesPath });

  return deepFreeze({
    kind: "bars" as const,
    ...common,
    dropped: ledger.dropped(),
    categories,
    seriesNames: names,
    bars,
    xTitle: optionalString(obj, "xTitle", path),
    yTitle: optionalString(obj, "yTitle", path),
    showValues,
    valueDecimals,
    yDomain: resolveDomainOption(obj, "yDomain", path),
  });
}

export function barsToVegaLite(fig: BarsFigure): TopLevelSpec {
  const multi = fig.seriesNames.length > 1;
  const bandWidth = fig.width / fig.categories.length;
  const longest = Math.max(...fig.categories.map((c) => measureTextWidth(c, FONT_SIZES.label)));
  const rotate = longest > bandWidth - 6;
  const x = {
    field: "category",
    type: "nominal",
    sort: [...fig.categories],
    title: fig.xTitle ?? null,
    scale: { paddingInner: 0.22, paddingOuter: 0.12 },
    axis: {
      labelAngle: rotate ? -35 : 0,
      labelAlign: rotate ? "right" : "center",
      labelOverlap: false,
      ticks: false,
      labelLimit: 200,
    },
  };
  const xOffset = { field: "series", type: "nominal", sort: [...fig.seriesNames], scale: { paddingInner: 0.08 } };
  const colorScale = { domain: [...fig.seriesNames], range: fig.seriesNames.map((_, i) => seriesColor(i)) };
  const ends = fig.bars.flatMap((b) => [b.value - (b.err ?? 0), b.value + (b.err ?? 0), 0]);
  let lo = Math.min(...ends);
  let hi = Math.max(...ends);
  if (fig.showValues) {
    // Headroom for the written values beyond the bars' (or error bars') ends, so they clear the axes.
    const span = hi - lo || 1;
    if (fig.bars.some((b) => b.value < 0)) lo -= 0.1 * span;
    if (fig.bars.some((b) => b.value >= 0)) hi += 0.1 * span;
  }
  const yScale = fig.yDomain ? { domain: [...fig.yDomain], nice: false } : { nice: true, zero: true, domain: [lo, hi] };
  const y = { field: "value", type: "quantitative", title: fig.yTitle ?? null, scale: yScale };
  const rows = fig.bars.map((b) => ({
    ...b,
    lo: b.err === null ? null : b.value - b.err,
    hi: b.err === null ? null : b.value + b.err,
    // Labels sit beyond the error bar's far end on the bar's side of zero.
    labelAt: b.value >= 0 ? b.value + (b.err ?? 0) : b.value - (b.err ?? 0),
  }));
  const layers: object[] = [
    {
      name: "bars",
      data: { values: rows },
      mark: { type: "bar" },
      encoding: {
        x,
        xOffset,
        y,
        color: {
          field: "series",
          type: "nominal",
          scale: colorScale,
          legend: multi ? { title: null, orient: "right" } : null,
        },
      },
    },
    {
      name: "zero_line",
      data: { values: [{ value: 0 }] },
      mark: { type: "rule", color: "#444444" },
      encoding: { y: { field: "value", type: "quantitative" } },
    },
  ];
  if (rows.some((r) => r.err !== null)) {
    layers.push({
      name: "error_bars",
      data: { values: rows.filter((r) => r.err !== null) },
      mark: { type: "rule", color: "#222222", strokeWidth: 1.3 },
      encoding: { x, xOffset, y: { ...y, field: "lo" }, y2: { field: "hi" } },
    });
  }
  if (fig.showValues) {
    for (const [name, positive] of [
      ["bar_values", true],
      ["bar_values_negative", false],
    ] as const) {
      const subset = rows.filter((r) => r.value >= 0 === positive);
      if (subset.length === 0) continue;
      layers.push({
        name,
        data: { values: subset },
        mark: {
          type: "text",
          baseline: positive ? "bottom" : "top",
          dy: positive ? -3 : 3,
          fontSize: FONT_SIZES.annotation,
          color: "#222222",
        },
        encoding: { x, xOffset, y: { ...y, field: "labelAt" }, text: { field: "text", type: "nominal" } },
      });
    }
  }
  return { width: fig.width, height: fig.height, layer: layers } as unknown as TopLevelSpec;
}

export function barsRows(fig: BarsFigure): Record<string, string | number | null>[] {
  return fig.bars.map((b) => ({ category: b.category, series: b.series, value: b.value, err: b.err }));
}
