/**
 * attention-marker figures (PNG + PDF + SVG, data as JSON/CSV beside them), all on the pooled analysis:
 * - `layer-profile-<persona>`: mean δ_system_B (marker − C1) per layer ± SEM, trained vs the force-fed comparator,
 *   the trained A–D windows shaded (the seed's hero figure);
 * - `diff-of-diffs-<persona>`: dd per layer ± paired SEM, segmentations B and A;
 * - `dd-per-head-<persona>`: the same dd (segmentation B) per layer × head, where a planted or trained head shows;
 * - `segmentations-<persona>`: the trained δ_system under segmentation A vs B, and δ_specials (B);
 * - `gates`: pass/fail heatmap, one row per persona × model × gate (A–D, C2, C3, C4), one column per layer.
 */
import * as path from "node:path";
import { bars, heatmap, type ImageFormat, type LineSeries, lines, saveFigure } from "@difflens/plot";
import type { AttentionMarkerAnalysis, LayerProfile, PersonaAnalysis } from "./analysis-types.ts";
import { GATE_NAMES } from "./analysis-types.ts";

/** Writes every figure under `dir` (PNG, PDF and SVG unless `formats` says); returns their base paths. */
export async function writeAttentionMarkerFigures(
  dir: string,
  analysis: AttentionMarkerAnalysis,
  options: { formats?: ImageFormat[] } = {},
): Promise<string[]> {
  const written: string[] = [];
  const save = async (figure: unknown, name: string) => {
    const base = path.join(dir, name);
    await saveFigure(figure, base, options.formats === undefined ? {} : { formats: options.formats });
    written.push(base);
  };
  const x = analysis.layers;
  for (const p of analysis.personas) {
    const name = slug(p.persona);
    const profile = layerProfileFigure(p, x);
    if (profile !== null) await save(profile, `layer-profile-${name}`);
    const dd = diffOfDiffsFigure(p, x);
    if (dd !== null) await save(dd, `diff-of-diffs-${name}`);
    const heads = perHeadFigure(p, x);
    if (heads !== null) await save(heads, `dd-per-head-${name}`);
    const seg = segmentationsFigure(p, x);
    if (seg !== null) await save(seg, `segmentations-${name}`);
  }
  const gates = gatesFigure(analysis);
  if (gates !== null) await save(gates, "gates");
  return written;
}

function band(name: string, profile: LayerProfile, dashed = false): LineSeries {
  // An SEM over one example does not exist: no band there.
  return { name, y: profile.mean, err: profile.sem.map((s) => s ?? 0), dashed };
}

function seedsText(p: PersonaAnalysis): string {
  const seeds = p.pooled.runSeeds;
  return seeds.length === 1 ? `seed ${seeds[0]}` : `seeds ${seeds.join(", ")} pooled`;
}

function layerProfileFigure(p: PersonaAnalysis, x: readonly number[]) {
  const trained = p.pooled.trained.contrasts.c1.profiles?.B.system;
  if (trained === undefined) return null;
  const comparator = p.pooled.comparator?.contrasts.c1.profiles?.B.system;
  const series = [band(`trained (n = ${trained.n})`, trained)];
  if (comparator !== undefined) series.push(band(`comparator, force-fed (n = ${comparator.n})`, comparator, true));
  const windows = p.pooled.trained.gates.windows;
  return lines({
    title: `${p.persona}: attention on system content at the marker, minus C1`,
    subtitle: `mean δ_system (segmentation B) ± SEM per layer · ${seedsText(p)} · shaded: trained gates A–D all pass ${p.pooled.trained.gates.windowsText}`,
    x,
    series,
    xTitle: "layer",
    yTitle: "δ attention fraction (marker − C1)",
    zeroLine: true,
    highlights: windows.map(([from, to]) => ({ from, to })),
  });
}

function diffOfDiffsFigure(p: PersonaAnalysis, x: readonly number[]) {
  const ff = p.pooled.forceFeed;
  if (ff === null) return null;
  const { A, B } = ff.diffOfDiffs;
  const p0 = B.signBalance.pValue;
  return bars({
    title: `${p.persona}: diff-of-diffs (trained − force-fed comparator), system`,
    subtitle: `(trained_marker − trained_C1) − (comparator_marker − comparator_C1) ± paired SEM · n = ${B.n} · ${seedsText(p)} · seg B: mean ${B.mean.toFixed(4)}, ${B.signBalance.positive}/${x.length} layers > 0, sign-balance p = ${p0 === null ? "n/a" : p0.toPrecision(3)}`,
    width: Math.max(420, 26 * x.length),
    categories: x.map(String),
    series: [
      { name: "segmentation B", values: B.perLayer.mean, err: B.perLayer.sem.map((s) => s ?? 0) },
      { name: "segmentation A", values: A.perLayer.mean, err: A.perLayer.sem.map((s) => s ?? 0) },
    ],
    xTitle: "layer",
    yTitle: "dd",
    yDomain: paddedDomain([
      ...B.perLayer.mean.map((m, l) => m + (B.perLayer.sem[l] ?? 0)),
      ...B.perLayer.mean.map((m, l) => m - (B.perLayer.sem[l] ?? 0)),
      ...A.perLayer.mean,
    ]),
    note: `Layer-profile shift: trained peaks at L${ff.trainedPeak.layer} (${ff.trainedPeak.value.toFixed(4)}), comparator at L${ff.comparatorPeak.layer} (${ff.comparatorPeak.value.toFixed(4)}).`,
  });
}

function perHeadFigure(p: PersonaAnalysis, x: readonly number[]) {
  const dd = p.pooled.forceFeed?.diffOfDiffs.B;
  if (dd === undefined) return null;
  const heads = dd.perHead[0]?.length ?? 0;
  return heatmap({
    title: `${p.persona}: diff-of-diffs per head (system, segmentation B)`,
    subtitle: `mean over ${dd.n} paired examples of (trained − comparator) marker − C1 · ${seedsText(p)}`,
    rowLabels: x.map((l) => `L${l}`),
    colLabels: Array.from({ length: heads }, (_, h) => `H${h}`),
    values: dd.perHead.map((row) => [...row]),
    xTitle: "head",
    yTitle: "layer",
    scheme: "diverging",
    colorTitle: "dd",
    showValues: false,
    width: Math.max(160, 14 * heads),
    height: Math.max(120, 14 * x.length),
  });
}

function segmentationsFigure(p: PersonaAnalysis, x: readonly number[]) {
  const c1 = p.pooled.trained.contrasts.c1.profiles;
  if (c1 === null) return null;
  const absorption = p.pooled.trained.specialsAbsorption;
  return lines({
    title: `${p.persona}: segmentation A vs B (trained, marker − C1)`,
    subtitle: `mean δ ± SEM per layer · ${seedsText(p)} · B strips structural specials into their own region`,
    x,
    series: [
      band("system, segmentation A", c1.A.system),
      band("system, segmentation B", c1.B.system),
      band("specials (B)", c1.B.specials, true),
    ],
    xTitle: "layer",
    yTitle: "δ attention fraction (marker − C1)",
    zeroLine: true,
    ...(absorption === null
      ? {}
      : {
          note: `System seg A − seg B: max ${absorption.gapAMinusB.system.max.value.toFixed(3)} (L${absorption.gapAMinusB.system.max.layer}), mean ${absorption.gapAMinusB.system.mean.toFixed(3)}; marker attention on specials: mean ${absorption.markerOnSpecials.mean.toFixed(3)}.`,
        }),
  });
}

function gatesFigure(analysis: AttentionMarkerAnalysis) {
  const rows: { label: string; values: number[] }[] = [];
  const left: string[] = [];
  for (const p of analysis.personas) {
    for (const model of [p.pooled.trained, p.pooled.comparator]) {
      if (model === null) continue;
      for (const gate of GATE_NAMES) {
        const pass = model.gates.pass[gate];
        const label = `${p.persona} · ${model.model} · ${gate}`;
        if (pass === null) left.push(label);
        else rows.push({ label, values: pass.map((v) => (v ? 1 : 0)) });
      }
    }
  }
  if (rows.length === 0) return null;
  return heatmap({
    title: "Gates per layer (1 = pass)",
    subtitle: "A–D: marker − C1 (D on segmentation B) · C2, C3, C4: SEM bar of marker − control above zero · pooled",
    rowLabels: rows.map((r) => r.label),
    colLabels: analysis.layers.map(String),
    values: rows.map((r) => r.values),
    xTitle: "layer",
    scheme: "blues",
    colorDomain: [0, 1],
    showValues: false,
    width: Math.max(240, 16 * analysis.layers.length),
    height: Math.max(120, 14 * rows.length),
    ...(left.length === 0 ? {} : { note: `Not applicable (left out): ${left.join("; ")}.` }),
  });
}

function paddedDomain(values: readonly number[]): [number, number] {
  const lo = Math.min(0, ...values);
  const hi = Math.max(0, ...values);
  const pad = (hi - lo) * 0.1 || 1e-3;
  return [lo - pad, hi + pad];
}

function slug(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]+/g, "-").replace(/^-|-$/g, "") || "persona";
}
