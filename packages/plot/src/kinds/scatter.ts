import type { TopLevelSpec } from "vega-lite";
import { PlotError } from "../errors.ts";
import { COMMON_KEYS, type CommonResolved, type CommonSpec, deepFreeze, resolveCommon } from "../figure-common.ts";
import { FONT_SIZES, seriesColor } from "../theme.ts";
import {
  expectLength,
  expectNonEmpty,
  expectObject,
  join,
  missing,
  NonFiniteLedger,
  numberArray,
  optionalNumber,
  optionalString,
  rejectUnknownKeys,
  stringArray,
} from "../validate.ts";
import { paddedNiceDomain, resolveDomainOption } from "./domain.ts";
import { placeLabels } from "./label-placement.ts";
import { type ReferenceLine, referenceLineLayers, resolveReferenceLines } from "./reference-lines.ts";

/** Points with threshold lines and labelled points, e.g. the two-stage comparison of decoder cosines. */
export interface ScatterSpec extends CommonSpec {
  /** [points] */
  x: ArrayLike<number>;
  /** [points] */
  y: ArrayLike<number>;
  /** Text beside a point (e.g. a latent id); null or "" for none. Keep it to a few dozen. [points] */
  labels?: (string | null)[];
  /** Group of each point, coloured and listed in a legend. [points] */
  groups?: string[];
  xTitle?: string;
  yTitle?: string;
  /** Vertical dashed threshold lines, e.g. [0.7] or [{ value: 0.7, label: "cos = 0.7" }]. */
  xLines?: (number | { value: number; label?: string })[];
  /** Horizontal dashed threshold lines. */
  yLines?: (number | { value: number; label?: string })[];
  /** x-axis range; default: data and lines, padded to round numbers. Points outside are clipped. */
  xDomain?: [number, number];
  /** y-axis range; as xDomain. */
  yDomain?: [number, number];
  /** Dot area in px²; default 30 (10 above 2000 points). */
  pointSize?: number;
  /** Dot opacity; default 0.85, less for crowded plots. */
  opacity?: number;
}

export interface ScatterPoint {
  x: number;
  y: number;
  label: string | null;
  group: string | null;
}

/** A placed label in data coordinates, with the leader line's far end when it was moved away from its point. */
export interface ScatterLabel {
  text: string;
  x: number;
  y: number;
  /** Left-centre anchor of the text in data coordinates. */
  lx: number;
  ly: number;
  leader: boolean;
  /** Far end of the leader line (the label box's nearest edge), data coordinates. */
  ex: number;
  ey: number;
}

export interface ScatterFigure extends CommonResolved {
  kind: "scatter";
  points: readonly ScatterPoint[];
  groupNames: readonly string[];
  labels: readonly ScatterLabel[];
  xTitle: string | undefined;
  yTitle: string | undefined;
  xLines: readonly ReferenceLine[];
  yLines: readonly ReferenceLine[];
  xDomain: readonly [number, number];
  yDomain: readonly [number, number];
  pointSize: number;
  opacity: number;
}

const KEYS = [
  ...COMMON_KEYS,
  "kind",
  "x",
  "y",
  "labels",
  "groups",
  "xTitle",
  "yTitle",
  "xLines",
  "yLines",
  "xDomain",
  "yDomain",
  "pointSize",
  "opacity",
];

export function resolveScatter(input: unknown, path = "scatter"): ScatterFigure {
  const obj = expectObject(input, path);
  rejectUnknownKeys(obj, KEYS, path);
  const common = resolveCommon(obj, path, { width: 420, height: 380 });
  if (obj["x"] === undefined) throw missing(obj, "x", path, "an array of numbers");
  if (obj["y"] === undefined) throw missing(obj, "y", path, "an array of numbers");
  const x = numberArray(obj["x"], join(path, "x"));
  const y = numberArray(obj["y"], join(path, "y"));
  expectNonEmpty(x.length, join(path, "x"));
  expectLength(y.length, x.length, join(path, "y"), "x");
  let labels: (string | null)[] | undefined;
  if (obj["labels"] !== undefined) {
    const lPath = join(path, "labels");
    if (!Array.isArray(obj["labels"]))
      throw new PlotError("PLOT_INVALID_VALUE", "must be an array of strings or null", { field: lPath });
    labels = obj["labels"].map((l, i) => {
      if (l === null || l === "") return null;
      if (typeof l !== "string")
        throw new PlotError("PLOT_INVALID_VALUE", "must be a string or null", { field: join(lPath, i), got: typeof l });
      return l;
    });
    expectLength(labels.length, x.length, lPath, "x");
  }
  const groups = obj["groups"] === undefined ? undefined : stringArray(obj["groups"], join(path, "groups"));
  if (groups) expectLength(groups.length, x.length, join(path, "groups"), "x");

  const ledger = new NonFiniteLedger(common.nonFinite);
  const points: ScatterPoint[] = [];
  x.forEach((xi, i) => {
    if (!ledger.accept([xi, y[i]!], [join(path, "x"), join(path, "y")], i, "points")) return;
    points.push({ x: xi, y: y[i]!, label: labels?.[i] ?? null, group: groups?.[i] ?? null });
  });
  if (points.length === 0)
    throw new PlotError("PLOT_EMPTY_DATA", "no point has finite x and y", { field: join(path, "x") });

  const xLines = resolveReferenceLines(obj["xLines"], join(path, "xLines"));
  const yLines = resolveReferenceLines(obj["yLines"], join(path, "yLines"));
  const xDomain =
    resolveDomainOption(obj, "xDomain", path) ??
    paddedNiceDomain([...points.map((p) => p.x), ...xLines.map((l) => l.value)]);
  const yDomain =
    resolveDomainOption(obj, "yDomain", path) ??
    paddedNiceDomain([...points.map((p) => p.y), ...yLines.map((l) => l.value)]);
  const crowded = points.length > 2000;
  const toPx = (p: { x: number; y: number }) => ({
    px: ((p.x - xDomain[0]) / (xDomain[1] - xDomain[0])) * common.width,
    py: common.height - ((p.y - yDomain[0]) / (yDomain[1] - yDomain[0])) * common.height,
  });
  const labelled = points.filter((p) => p.label !== null);
  const placed = placeLabels(
    labelled.map((p) => ({ ...toPx(p), text: p.label! })),
    common.width,
    common.height,
    FONT_SIZES.annotation,
  );
  const fromPx = (px: number, py: number) => ({
    x: xDomain[0] + (px / common.width) * (xDomain[1] - xDomain[0]),
    y: yDomain[0] + ((common.height - py) / common.height) * (yDomain[1] - yDomain[0]),
  });
  const scatterLabels: ScatterLabel[] = labelled.map((p, i) => {
    const place = placed[i]!;
    const anchor = fromPx(place.lx, place.ly);
    const end = fromPx(place.endX, place.endY);
    return { text: p.label!, x: p.x, y: p.y, lx: anchor.x, ly: anchor.y, leader: place.leader, ex: end.x, ey: end.y };
  });

  return deepFreeze({
    kind: "scatter" as const,
    ...common,
    dropped: ledger.dropped(),
    points,
    groupNames: groups ? [...new Set(points.map((p) => p.group!))] : [],
    labels: scatterLabels,
    xTitle: optionalString(obj, "xTitle", path),
    yTitle: optionalString(obj, "yTitle", path),
    xLines,
    yLines,
    xDomain,
    yDomain,
    pointSize: optionalNumber(obj, "pointSize", path, { min: 1, max: 2000 }) ?? (crowded ? 10 : 30),
    opacity:
      optionalNumber(obj, "opacity", path, { min: 0, max: 1 }) ?? (crowded ? 0.35 : points.length > 300 ? 0.6 : 0.85),
  });
}

export function scatterToVegaLite(fig: ScatterFigure): TopLevelSpec {
  const x = {
    field: "x",
    type: "quantitative",
    title: fig.xTitle ?? null,
    scale: { domain: [...fig.xDomain], nice: false, zero: false },
  };
  const y = {
    field: "y",
    type: "quantitative",
    title: fig.yTitle ?? null,
    scale: { domain: [...fig.yDomain], nice: false, zero: false },
  };
  const grouped = fig.groupNames.length > 0;
  const color = grouped
    ? {
        color: {
          field: "group",
          type: "nominal",
          scale: { domain: [...fig.groupNames], range: fig.groupNames.map((_, i) => seriesColor(i)) },
          legend: { title: null, orient: "right" },
        },
      }
    : {};
  const layers: object[] = [
    ...referenceLineLayers(fig.xLines, "x", "x_lines"),
    ...referenceLineLayers(fig.yLines, "y", "y_lines"),
    {
      name: "points",
      data: { values: fig.points.map((p) => ({ ...p })) },
      // No per-point aria labels: with tens of thousands of latents they would dominate the SVG's size.
      mark: {
        type: "circle",
        size: fig.pointSize,
        opacity: fig.opacity,
        clip: true,
        aria: fig.points.length <= 500,
        ...(grouped ? {} : { color: seriesColor(0) }),
      },
      encoding: { x, y, ...color },
    },
  ];
  if (fig.labels.length > 0) {
    const labelRows = fig.labels.map((l) => ({ ...l }));
    layers.push(
      {
        name: "label_leaders",
        data: { values: labelRows.filter((l) => l.leader) },
        mark: { type: "rule", color: "#666666", strokeWidth: 0.8 },
        encoding: { x, y, x2: { field: "ex" }, y2: { field: "ey" } },
      },
      {
        name: "labelled_points",
        data: { values: labelRows },
        mark: { type: "circle", size: fig.pointSize * 1.6, fillOpacity: 0, stroke: "#111111", strokeWidth: 1.2 },
        encoding: { x, y },
      },
      {
        name: "point_label_halos",
        data: { values: labelRows },
        mark: {
          type: "text",
          align: "left",
          baseline: "middle",
          fontSize: FONT_SIZES.annotation,
          stroke: "white",
          strokeWidth: 3,
          strokeOpacity: 0.9,
        },
        encoding: { x: { ...x, field: "lx" }, y: { ...y, field: "ly" }, text: { field: "text", type: "nominal" } },
      },
      {
        name: "point_labels",
        data: { values: labelRows },
        mark: { type: "text", align: "left", baseline: "middle", fontSize: FONT_SIZES.annotation, color: "#111111" },
        encoding: { x: { ...x, field: "lx" }, y: { ...y, field: "ly" }, text: { field: "text", type: "nominal" } },
      },
    );
  }
  return { width: fig.width, height: fig.height, layer: layers } as unknown as TopLevelSpec;
}

export function scatterRows(fig: ScatterFigure): Record<string, string | number | null>[] {
  return fig.points.map((p) => ({ x: p.x, y: p.y, label: p.label, group: p.group }));
}
