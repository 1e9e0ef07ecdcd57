/**
 * The run's figures (PNG + PDF + SVG, data beside them): the condition-similarity heatmap across layers (the seed's
 * hero figure), Track A bars, Track B grouped counts and the behaviour scatter.
 */
import * as path from "node:path";
import { bars, heatmap, saveFigure, scatter } from "@difflens/plot";
import type { BehaviourLayerResult } from "./behaviour-link.ts";
import type { ReadoutResults, SaeConditionsResults } from "./results.ts";

/** Writes one readout position's figures under `dir` and returns their base paths (without extension). */
export async function writeFigures(
  results: SaeConditionsResults,
  readout: ReadoutResults,
  dir: string,
): Promise<string[]> {
  const written: string[] = [];
  const save = async (figure: unknown, name: string) => {
    const base = path.join(dir, name);
    await saveFigure(figure, base);
    written.push(base);
  };
  const layers = readout.layers;
  const labels = readout.conditions.map((c) => c.label);
  const short = labels.map(shortLabel);
  const subtitle = `${results.nPrompts} prompts · readout ${readout.position} · SAE encode ${layers[0]?.encodeRule.applied ?? ""}`;
  await save(
    heatmap({
      title: "Condition similarity (cosine of mean SAE activation vectors)",
      subtitle,
      rowLabels: short,
      colLabels: short,
      panels: layers.map((l) => ({
        title: `Layer ${l.layer}`,
        values: l.similarity.matrix.map((r) => r.map((v) => v ?? Number.NaN)),
      })),
      colorTitle: "cosine",
      nonFinite: "drop",
      ...(labels.some((l, i) => l !== short[i]) ? { note: legend(labels, short) } : {}),
    }),
    "similarity-heatmap",
  );
  for (const l of layers) {
    for (const [i, a] of (l.trackA ?? []).entries()) {
      const categories = [...a.projections.map((p) => `F${p.latent}`), "T = mean |proj|", "null mean"];
      const values = [...a.projections.map((p) => p.projection), a.statistic, a.nullMean];
      await save(
        bars({
          title: `Track A, layer ${l.layer}: Δ̄ = ${shortLabel(a.pair[0])} − ${shortLabel(a.pair[1])}`,
          subtitle: `⟨Δ̄, d̂ᵢ⟩ per chosen latent · p = ${a.pValue.toPrecision(3)} vs ${a.nNull} random sets · ${a.nPositive} positive, ${a.nNegative} negative`,
          width: Math.max(420, 56 * categories.length),
          categories,
          series: [{ name: "⟨Δ̄, d̂ᵢ⟩", values }],
          yTitle: "projection",
          yDomain: paddedDomain(values),
        }),
        `track-a-layer${l.layer}-pair${i}-${slug(a.pair)}`,
      );
    }
  }
  const pairs = layers[0]?.trackB.map((b) => `${shortLabel(b.pair[0])} vs ${shortLabel(b.pair[1])}`) ?? [];
  if (pairs.length > 0) {
    await save(
      bars({
        title: "Track B: latents that pass the family-wise (max-T) test",
        subtitle: `α = ${layers[0]!.trackB[0]!.alpha} · ${layers[0]!.trackB[0]!.nPermutations} sign-flip permutations · ${subtitle}`,
        categories: pairs,
        series: layers.map((l) => ({ name: `layer ${l.layer}`, values: l.trackB.map((b) => b.counts.familywise) })),
        yTitle: "latents passing",
        showValues: true,
        valueDecimals: 0,
        note: [legend(labels, short), degenerateNote(readout)].filter((s) => s !== "").join(" · "),
      }),
      "track-b-counts",
    );
  }
  for (const b of readout.behaviour ?? []) await save(behaviourScatter(b, results), `behaviour-layer${b.layer}`);
  return written;
}

function behaviourScatter(b: BehaviourLayerResult, results: SaeConditionsResults) {
  const rho =
    b.rho === null
      ? (b.note ?? "no correlation")
      : `Spearman ρ = ${b.rho.toFixed(3)}, p = ${b.pValue!.toPrecision(3)}, CI [${b.ci![0].toFixed(2)}, ${b.ci![1].toFixed(2)}]`;
  return scatter({
    title: `Feature gap vs behaviour, layer ${b.layer}`,
    subtitle: `${rho} · n = ${b.n}`,
    x: b.gaps,
    y: results.scores ?? [],
    labels: results.promptIds.map(() => null),
    xTitle: `gap (${b.gap}) ${shortLabel(b.pair[0])} − ${shortLabel(b.pair[1])}`,
    yTitle: "score",
  });
}

function degenerateNote(readout: ReadoutResults): string {
  const flagged = readout.layers.flatMap((l) =>
    l.trackB.filter((b) => b.allDegenerate).map((b) => `L${l.layer} ${b.pair.join(" vs ")}`),
  );
  return flagged.length === 0 ? "" : `Degenerate (no variance across prompts, nothing tested): ${flagged.join("; ")}`;
}

function paddedDomain(values: readonly number[]): [number, number] {
  const lo = Math.min(0, ...values);
  const hi = Math.max(0, ...values);
  const pad = (hi - lo) * 0.1 || 1;
  return [lo - (lo < 0 ? pad : 0), hi + pad];
}

/** Long condition labels ("custom:You are a helpful assistant.") shortened for axes. */
export function shortLabel(label: string): string {
  return label.length <= 22 ? label : `${label.slice(0, 21)}…`;
}

function legend(labels: readonly string[], short: readonly string[]): string {
  return labels
    .map((l, i) => (l === short[i] ? null : `${short[i]} = ${l}`))
    .filter((s) => s !== null)
    .join("; ");
}

function slug(pair: readonly [string, string]): string {
  return pair
    .map((s) =>
      s
        .replace(/[^A-Za-z0-9]+/g, "-")
        .replace(/^-|-$/g, "")
        .slice(0, 24),
    )
    .join("_vs_");
}
