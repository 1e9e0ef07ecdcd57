/**
 * The follow-ups' figures (PNG + PDF + SVG, data beside them via @difflens/plot): per-layer lines with SEM bands,
 * trained solid and comparator dashed where both ran.
 */
import * as path from "node:path";
import { type LineSeries, lines, saveFigure } from "@difflens/plot";
import type { AblatePersonaResult } from "./ablate-mlp.ts";
import type { DlaPersonaResult } from "./dla.ts";
import type { MeanSem } from "./layer-stats.ts";
import type { LensPersonaResult } from "./logit-lens.ts";
import type { PatchPersonaResult } from "./patch.ts";

function series(name: string, values: readonly MeanSem[], dashed = false): LineSeries {
  return { name, y: values.map((v) => v.mean), err: values.map((v) => v.sem ?? 0), ...(dashed ? { dashed } : {}) };
}

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

async function save(dir: string, name: string, figure: unknown): Promise<string> {
  const base = path.join(dir, name);
  await saveFigure(figure, base);
  return base;
}

/** One figure per persona: the marker logit through the lens (x = −1 is the embedding). */
export async function writeLensFigures(dir: string, results: readonly LensPersonaResult[]): Promise<string[]> {
  const written: string[] = [];
  for (const r of results) {
    const s = [series("trained", r.trained.logit)];
    if (r.comparator) s.push(series("comparator", r.comparator.logit, true));
    const figure = lines({
      title: `Logit lens at t* − 1: the marker's logit (${r.persona})`,
      subtitle: `mean ± SEM over ${r.n} positives · rise layer: trained ${r.trained.riseLayer ?? "—"}${r.difference ? `, trained − comparator ${r.difference.riseLayer ?? "—"}` : ""}`,
      x: range(-1, r.trained.logit.length),
      series: s,
      xTitle: "layer (resid_post; −1 = embedding)",
      yTitle: "marker logit",
      nonFinite: "drop",
    });
    written.push(await save(dir, `logit-lens-${r.persona}`, figure));
  }
  return written;
}

/** One figure per persona: the DLA of each layer's heads (summed) and MLP. */
export async function writeDlaFigures(dir: string, results: readonly DlaPersonaResult[]): Promise<string[]> {
  const written: string[] = [];
  for (const r of results) {
    const s = [series("trained attention", r.trained.attentionPerLayer), series("trained MLP", r.trained.mlpPerLayer)];
    if (r.comparator) {
      s.push(series("comparator attention", r.comparator.attentionPerLayer, true));
      s.push(series("comparator MLP", r.comparator.mlpPerLayer, true));
    }
    const top = (r.topDifference ?? r.topTrained).slice(0, 3).map((c) => `${c.component} ${c.mean.toFixed(3)}`);
    const figure = lines({
      title: `Direct logit attribution of the marker at t* − 1 (${r.persona})`,
      subtitle: `mean ± SEM over ${r.n} positives · top ${r.topDifference ? "trained − comparator" : "trained"}: ${top.join(", ")}`,
      x: range(0, r.trained.mlpPerLayer.length),
      series: s,
      xTitle: "layer",
      yTitle: "DLA (logit units)",
      zeroLine: true,
      nonFinite: "drop",
    });
    written.push(await save(dir, `dla-${r.persona}`, figure));
  }
  return written;
}

/** One figure: ΔP(marker) per patched layer, a line per persona. */
export async function writePatchFigure(dir: string, results: readonly PatchPersonaResult[]): Promise<string[]> {
  const figure = lines({
    title: "Residual-stream patching trained → comparator: ΔP(marker) at t* − 1",
    subtitle: `positions ${results[0]?.positions === "all" ? "≤ t* − 1" : "t* − 1"} · mean ± SEM · locus: ${results.map((r) => `${r.persona} ${r.locus ?? "—"}`).join(", ")}`,
    x: range(0, results[0]?.deltaP.length ?? 0),
    series: results.map((r) => series(r.persona, r.deltaP)),
    xTitle: "patched layer (resid_post)",
    yTitle: "ΔP(marker)",
    zeroLine: true,
    nonFinite: "drop",
  });
  return [await save(dir, "patch", figure)];
}

/** One figure: the drop in P(marker) per ablated MLP, a line per persona. */
export async function writeAblateFigure(dir: string, results: readonly AblatePersonaResult[]): Promise<string[]> {
  const figure = lines({
    title: `MLP ablation in the trained model (${results[0]?.mode ?? "zero"}): drop in P(marker) at t* − 1`,
    subtitle: `mean ± SEM · peak: ${results.map((r) => `${r.persona} ${r.peak ?? "—"}`).join(", ")}`,
    x: range(0, results[0]?.drop.length ?? 0),
    series: results.map((r) => series(r.persona, r.drop)),
    xTitle: "ablated layer (hook_mlp_out)",
    yTitle: "P(clean) − P(ablated)",
    zeroLine: true,
    nonFinite: "drop",
  });
  return [await save(dir, "ablate-mlp", figure)];
}
