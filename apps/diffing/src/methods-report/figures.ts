/**
 * The page's figures (SVG, PNG and PDF via @difflens/plot, data beside them): per crosscoder the relative decoder norm
 * histogram with its bands and the Latent Scaling scatter, and the cosine heatmap of all headline directions.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { heatmap, histogram, saveFigure, scatter } from "@difflens/plot";
import { normBand } from "@difflens/sae";
import { type CrosscoderReport, HISTOGRAM_BINS } from "./crosscoder-section.ts";
import type { MethodsReport } from "./report-data.ts";

export interface WrittenFigure {
  /** e.g. "relative-norms-batchtopk". */
  readonly name: string;
  /** Paths relative to the report folder. */
  readonly svg: string;
  readonly png: string;
  readonly pdf: string;
  /** The SVG markup, for inlining. */
  readonly markup: string;
}

const KIND_TITLES = { batchtopk: "BatchTopK crosscoder", l1: "L1 crosscoder" } as const;
/** ν beyond this range is drawn at its edge (named in the note) so one huge ratio does not flatten the rest. */
const NU_RANGE: [number, number] = [-1, 2];

/** Writes the figures under `<outDir>/figures/`; `relativeNorms` are the crosscoders' [dSae] values (NaN: dead). */
export async function writeReportFigures(
  report: MethodsReport,
  relativeNorms: { batchtopk: readonly number[] | null; l1: readonly number[] | null },
  outDir: string,
): Promise<WrittenFigure[]> {
  const written: WrittenFigure[] = [];
  const save = async (figure: unknown, name: string) => {
    const base = path.join(outDir, "figures", name);
    await saveFigure(figure, base);
    const rel = (ext: string) => `figures/${name}.${ext}`;
    const markup = fs.readFileSync(`${base}.svg`, "utf8").replace(/^<\?xml[^>]*>\s*/, "");
    written.push({ name, svg: rel("svg"), png: rel("png"), pdf: rel("pdf"), markup });
  };
  for (const kind of ["batchtopk", "l1"] as const) {
    const cc = report.crosscoders[kind];
    const rel = relativeNorms[kind];
    if (!cc || !rel) continue;
    const hist = relativeNormHistogramFigure(cc, rel);
    if (hist) await save(hist, `relative-norms-${kind}`);
    const nu = latentScalingFigure(cc);
    if (nu) await save(nu, `latent-scaling-${kind}`);
  }
  const { labels, matrix } = report.cosines;
  if (labels.length > 0) {
    await save(
      heatmap({
        title: "Cosines between the methods' headline directions",
        subtitle: `${report.hook}; signed cos of unit directions${report.knownAnswer ? "; plants last" : ""}`,
        rowLabels: labels,
        colLabels: labels,
        values: matrix,
        scheme: "diverging",
        colorDomain: [-1, 1],
        colorTitle: "cos",
        showValues: labels.length <= 16,
        width: Math.max(240, 26 * labels.length),
        height: Math.max(240, 26 * labels.length),
        nonFinite: "drop",
      }),
      "direction-cosines",
    );
  }
  return written;
}

function relativeNormHistogramFigure(cc: CrosscoderReport, rel: readonly number[]): unknown {
  // Most common bands first, so shared and chat-only keep their colours across figures (plot colours by order).
  const series = ["shared", "chat-only", "other", "base-only"]
    .map((band) => ({ name: band, values: rel.filter((r) => bandOf(cc, r) === band) }))
    .filter((s) => s.values.length > 0);
  if (series.length === 0) return null;
  const b = cc.bands;
  return histogram({
    title: `${KIND_TITLES[cc.kind]}: relative decoder norm`,
    subtitle: `${cc.dSae} latents: ${Object.entries(cc.bandCounts)
      .map(([k, v]) => `${v} ${k}`)
      .join(", ")}${cc.deadLatents > 0 ? `, ${cc.deadLatents} dead` : ""}`,
    series,
    binWidth: 1 / HISTOGRAM_BINS,
    extent: [0, 1],
    xTitle: "‖d chat‖ / (‖d base‖ + ‖d chat‖)",
    yTitle: "latents",
    xLines: [
      { value: b.baseOnlyMax, label: "base-only ≤" },
      { value: b.sharedMin, label: "shared" },
      { value: b.sharedMax, label: "" },
      { value: b.chatOnlyMin, label: "≥ chat-only" },
    ],
  });
}

function bandOf(cc: CrosscoderReport, r: number): string {
  return Number.isNaN(r) ? "dead" : normBand(r, cc.bands);
}

function latentScalingFigure(cc: CrosscoderReport): unknown {
  const GROUPS = ["chat-only · chat-specific", "chat-only · artifact", "scored, not chat-only"];
  const groupOf = (l: CrosscoderReport["latents"][number]) =>
    l.band !== "chat-only" ? GROUPS[2]! : l.chatSpecific ? GROUPS[0]! : GROUPS[1]!;
  // Points in group order: plot colours groups by first appearance, so the groups keep their colours across figures.
  const pts = cc.latents
    .filter((l) => Number.isFinite(l.nuReconstruction) && Number.isFinite(l.nuError))
    .sort((a, b) => GROUPS.indexOf(groupOf(a)) - GROUPS.indexOf(groupOf(b)));
  if (pts.length === 0) return null;
  const clamp = (v: number) => Math.min(NU_RANGE[1], Math.max(NU_RANGE[0], v));
  const outside = pts.filter((l) => clamp(l.nuReconstruction) !== l.nuReconstruction || clamp(l.nuError) !== l.nuError);
  const dropped = cc.latents.length - pts.length;
  const notes = [
    outside.length > 0 ? `${outside.length} latent(s) with ν beyond [${NU_RANGE.join(", ")}] drawn at the edge` : "",
    dropped > 0 ? `${dropped} latent(s) without a finite ν (never fired on the store) left out` : "",
  ].filter((s) => s !== "");
  const xs = pts.map((l) => clamp(l.nuReconstruction)),
    ys = pts.map((l) => clamp(l.nuError));
  // [0, 1] always shown (0: chat-specific, 1: the base holds as much), widened to the data in steps of 0.5.
  const domain = (v: number[]): [number, number] => [
    Math.min(0, Math.floor(Math.min(...v) * 2) / 2),
    Math.max(1, Math.ceil(Math.max(...v) * 2) / 2),
  ];
  return scatter({
    title: `${KIND_TITLES[cc.kind]}: Latent Scaling`,
    subtitle: "ν = β base / β chat; chat-specific: both ν < 0.5 (lower left); labels: chat-only latents",
    x: xs,
    y: ys,
    xDomain: domain(xs),
    yDomain: domain(ys),
    groups: pts.map(groupOf),
    labels: pts.map((l) => (l.band === "chat-only" ? String(l.latent) : null)),
    xTitle: "ν reconstruction",
    yTitle: "ν error",
    xLines: [{ value: 0.5, label: "0.5" }],
    yLines: [{ value: 0.5, label: "0.5" }],
    ...(notes.length > 0 ? { note: notes.join("; ") } : {}),
  });
}
