import type { TopLevelSpec } from "vega-lite";
import { PlotError } from "../errors.ts";
import { COMMON_KEYS, type CommonResolved, type CommonSpec, deepFreeze, resolveCommon } from "../figure-common.ts";
import { seriesColor } from "../theme.ts";
import {
  expectNonEmpty,
  expectObject,
  join,
  missing,
  NonFiniteLedger,
  numberArray,
  optionalEnum,
  optionalNumber,
  optionalString,
  rejectUnknownKeys,
  requiredString,
} from "../validate.ts";
import { niceStep, resolveDomainOption } from "./domain.ts";
import { type ReferenceLine, referenceLineLayers, resolveReferenceLines } from "./reference-lines.ts";

/** One distribution; several are overlaid on shared bins. */
export interface HistogramSeries {
  name: string;
  values: ArrayLike<number>;
}

export type HistogramNormalize = "count" | "fraction" | "density";

/** Histogram of one or more samples, e.g. SAE feature density as log10 firing frequency. */
export interface HistogramSpec extends CommonSpec {
  series: HistogramSeries[];
  /** Target number of bins (rounded to a nice width); default 30. Ignored when `binWidth` is given. */
  bins?: number;
  /** Exact bin width. */
  binWidth?: number;
  /** Fixed [lo, hi] range binned; values outside are left out and counted in the note. Default: the data's range. */
  extent?: [number, number];
  /** Bar height: "count" (default), "fraction" of the series, or "density" (fraction / bin width). */
  normalize?: HistogramNormalize;
  xTitle?: string;
  /** Default follows `normalize`. */
  yTitle?: string;
  /** Vertical dashed markers, e.g. a dead-latent cut-off. */
  xLines?: (number | { value: number; label?: string })[];
}

export interface HistogramBin {
  series: string;
  /** Left edge (inclusive). */
  start: number;
  /** Right edge (exclusive, inclusive for the last bin). */
  end: number;
  count: number;
  /** Bar height after normalisation. */
  height: number;
}

export interface HistogramFigure extends CommonResolved {
  kind: "histogram";
  seriesNames: readonly string[];
  /** Bin edges shared by every series, length bins + 1. */
  edges: readonly number[];
  /** bins × series, series-major. */
  bins: readonly HistogramBin[];
  normalize: HistogramNormalize;
  xTitle: string | undefined;
  yTitle: string;
  xLines: readonly ReferenceLine[];
}

const KEYS = [
  ...COMMON_KEYS,
  "kind",
  "series",
  "bins",
  "binWidth",
  "extent",
  "normalize",
  "xTitle",
  "yTitle",
  "xLines",
];

export function resolveHistogram(input: unknown, path = "histogram"): HistogramFigure {
  const obj = expectObject(input, path);
  rejectUnknownKeys(obj, KEYS, path);
  const common = resolveCommon(obj, path, { width: 480, height: 280 });
  if (obj["series"] === undefined) throw missing(obj, "series", path, "an array of { name, values }");
  const seriesPath = join(path, "series");
  if (!Array.isArray(obj["series"]))
    throw new PlotError("PLOT_INVALID_VALUE", "must be an array", {
      field: seriesPath,
      expected: "an array of { name, values }",
    });
  expectNonEmpty(obj["series"].length, seriesPath, "at least one series");
  const extent = resolveDomainOption(obj, "extent", path);
  const binWidth = optionalNumber(obj, "binWidth", path, { min: 0, exclusiveMin: true });
  const binCount = optionalNumber(obj, "bins", path, { min: 1, max: 1000, integer: true }) ?? 30;
  const ledger = new NonFiniteLedger(common.nonFinite);
  const samples: { name: string; values: number[] }[] = [];
  obj["series"].forEach((raw, s) => {
    const sPath = join(seriesPath, s);
    const series = expectObject(raw, sPath);
    rejectUnknownKeys(series, ["name", "values"], sPath);
    const name = requiredString(series, "name", sPath);
    if (samples.some((q) => q.name === name))
      throw new PlotError("PLOT_INVALID_VALUE", `duplicate series name "${name}"`, { field: join(sPath, "name") });
    if (series["values"] === undefined) throw missing(series, "values", sPath, "an array of numbers");
    const values = numberArray(series["values"], join(sPath, "values"));
    expectNonEmpty(values.length, join(sPath, "values"));
    const kept: number[] = [];
    values.forEach((v, i) => {
      if (!ledger.accept([v], [join(sPath, "values")], i, `series "${name}"`)) return;
      if (extent && (v < extent[0] || v > extent[1])) {
        ledger.record(`series "${name}"`, "outside extent");
        return;
      }
      kept.push(v);
    });
    samples.push({ name, values: kept });
  });
  const all = samples.flatMap((s) => s.values);
  if (all.length === 0) throw new PlotError("PLOT_EMPTY_DATA", "no finite value to bin", { field: seriesPath });

  const edges = binEdges(extent ?? [min(all), max(all)], binWidth, binCount, extent !== undefined);
  const normalize = optionalEnum(obj, "normalize", path, ["count", "fraction", "density"] as const) ?? "count";
  const bins: HistogramBin[] = [];
  for (const sample of samples) {
    const counts = countIntoBins(sample.values, edges);
    const total = sample.values.length || 1;
    counts.forEach((count, i) => {
      const start = edges[i]!;
      const end = edges[i + 1]!;
      const height =
        normalize === "count" ? count : normalize === "fraction" ? count / total : count / total / (end - start);
      bins.push({ series: sample.name, start, end, count, height });
    });
  }

  return deepFreeze({
    kind: "histogram" as const,
    ...common,
    dropped: ledger.dropped(),
    seriesNames: samples.map((s) => s.name),
    edges,
    bins,
    normalize,
    xTitle: optionalString(obj, "xTitle", path),
    yTitle: optionalString(obj, "yTitle", path) ?? normalize,
    xLines: resolveReferenceLines(obj["xLines"], join(path, "xLines")),
  });
}

function min(values: readonly number[]): number {
  let m = Infinity;
  for (const v of values) if (v < m) m = v;
  return m;
}
function max(values: readonly number[]): number {
  let m = -Infinity;
  for (const v of values) if (v > m) m = v;
  return m;
}

/**
 * Bin edges covering [lo, hi]. A fixed extent is split exactly (width `binWidth` or (hi − lo) / count); a data range
 * is widened to multiples of a nice width (1, 2, 5 × 10^k) so edges read as round numbers.
 */
export function binEdges(
  [lo, hi]: readonly [number, number],
  binWidth: number | undefined,
  count: number,
  fixed: boolean,
): number[] {
  if (lo === hi) {
    const half = binWidth !== undefined ? binWidth / 2 : lo === 0 ? 0.5 : Math.abs(lo) * 0.05;
    return [lo - half, lo + half];
  }
  const step = binWidth ?? (fixed ? (hi - lo) / count : niceStep(hi - lo, count));
  const start = fixed ? lo : Math.floor(lo / step) * step;
  const n = Math.max(1, Math.ceil((hi - start) / step - 1e-9));
  const decimals = Math.min(15, Math.max(0, -Math.floor(Math.log10(step)) + 3));
  const edges = Array.from({ length: n + 1 }, (_, i) => Number((start + i * step).toFixed(decimals)));
  if (fixed) edges[n] = hi;
  // Rounding may leave the top edge a hair under the maximum; the last bin is closed, so stretch it.
  if (edges[n]! < hi) edges[n] = hi;
  return edges;
}

/** Counts per bin: [edge_i, edge_{i+1}) with the last bin closed on the right. */
export function countIntoBins(values: readonly number[], edges: readonly number[]): number[] {
  const n = edges.length - 1;
  const counts = new Array<number>(n).fill(0);
  const lo = edges[0]!;
  const width = (edges[n]! - lo) / n;
  for (const v of values) {
    let i = Math.min(n - 1, Math.max(0, Math.floor((v - lo) / width)));
    while (i > 0 && v < edges[i]!) i--;
    while (i < n - 1 && v >= edges[i + 1]!) i++;
    counts[i]!++;
  }
  return counts;
}

export function histogramToVegaLite(fig: HistogramFigure): TopLevelSpec {
  const multi = fig.seriesNames.length > 1;
  const colorScale = { domain: [...fig.seriesNames], range: fig.seriesNames.map((_, i) => seriesColor(i)) };
  const lineValues = fig.xLines.map((l) => l.value);
  const lo = Math.min(fig.edges[0]!, ...lineValues);
  const hi = Math.max(fig.edges[fig.edges.length - 1]!, ...lineValues);
  const pad = lineValues.some((v) => v <= fig.edges[0]! || v >= fig.edges[fig.edges.length - 1]!)
    ? (hi - lo) * 0.02
    : 0;
  const x = {
    field: "start",
    type: "quantitative",
    title: fig.xTitle ?? null,
    scale: { domain: [lo - pad, hi + pad], nice: false, zero: false },
  };
  const y = { field: "height", type: "quantitative", title: fig.yTitle, scale: { zero: true, nice: true } };
  const color = { field: "series", type: "nominal", scale: colorScale };
  const layers: object[] = [
    {
      name: "bins",
      data: { values: fig.bins.map((b) => ({ ...b })) },
      // Overlaid samples get faint fills under a step outline each, so overlaps stay readable instead of mixing colours.
      mark: multi ? { type: "rect", opacity: 0.16 } : { type: "rect", opacity: 0.9, stroke: "white", strokeWidth: 0.5 },
      encoding: {
        x,
        x2: { field: "end" },
        y,
        y2: { datum: 0 },
        color: { ...color, legend: multi ? { title: null, orient: "right", symbolOpacity: 0.8 } : null },
      },
    },
  ];
  if (multi) {
    layers.push({
      name: "outlines",
      data: { values: stepOutline(fig) },
      mark: { type: "line", interpolate: "step-after", strokeWidth: 1.8 },
      encoding: { x, y, color },
    });
  }
  layers.push(...referenceLineLayers(fig.xLines, "x", "x_lines"));
  return { width: fig.width, height: fig.height, layer: layers } as unknown as TopLevelSpec;
}

/** Per series: each bin's left edge at its height, closed by the last right edge and a drop to zero at both ends. */
function stepOutline(fig: HistogramFigure): { series: string; start: number; height: number }[] {
  const rows: { series: string; start: number; height: number }[] = [];
  for (const name of fig.seriesNames) {
    const bins = fig.bins.filter((b) => b.series === name);
    rows.push({ series: name, start: bins[0]!.start, height: 0 });
    for (const b of bins) rows.push({ series: name, start: b.start, height: b.height });
    const last = bins[bins.length - 1]!;
    rows.push({ series: name, start: last.end, height: last.height }, { series: name, start: last.end, height: 0 });
  }
  return rows;
}

export function histogramRows(fig: HistogramFigure): Record<string, string | number>[] {
  return fig.bins.map((b) => ({
    series: b.series,
    binStart: b.start,
    binEnd: b.end,
    count: b.count,
    height: b.height,
  }));
}
