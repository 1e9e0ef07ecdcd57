/**
 * An attention-marker run's page: the headline (counts, each persona's gate summaries and force-feed diff-of-diffs,
 * the toy's known answer when the run is the embedded toy), its figures (layer profile with SEM bands, gates heatmap,
 * diff-of-diffs, per head, segmentations), the headline table and the first page of generations with the marker.
 * Reads results.json (apps/readouts/README.md, attention-marker "Outputs").
 */
import type { ReadoutsRunResponse, TableData } from "../api/readouts-types.ts";
import { GENERATIONS_PAGE_SIZE } from "../api/routes.ts";
import type { ErrorPanel } from "../api/run-types.ts";
import type { DiscoveredRun } from "./discovered-run.ts";
import { errorPanel, readRunJson } from "./read-run-file.ts";
import { readFigures } from "./readouts-figures.ts";
import { generationsPage } from "./readouts-generations.ts";
import { type Json, list, num, obj } from "./readouts-json.ts";

type Page = Pick<ReadoutsRunResponse, "summary" | "figures" | "tables" | "errors" | "generations">;

const FIGURE_ORDER = ["layer-profile-", "gates", "diff-of-diffs-", "dd-per-head-", "segmentations-"];

export async function attentionMarkerPage(run: DiscoveredRun): Promise<Page> {
  const errors: ErrorPanel[] = [];
  const summary: string[] = [];
  const tables: TableData[] = [];
  let results: Json | null = null;
  try {
    results = obj(await readRunJson(run, "results.json"));
  } catch (error) {
    errors.push(errorPanel(error, "results.json"));
  }
  if (results) {
    summary.push(...headlines(results));
    const verdict = toyVerdict(run, results);
    if (verdict) summary.push(verdict);
    tables.push(gatesTable(results));
  }
  const { figures, errors: figureErrors } = await readFigures(run, ["figures"], FIGURE_ORDER);
  const markerId = results && typeof results["markerId"] === "number" ? results["markerId"] : null;
  const { generations, errors: generationErrors } = await generationsPage(run, 0, GENERATIONS_PAGE_SIZE, markerId);
  return { summary, figures, tables, generations, errors: [...errors, ...figureErrors, ...generationErrors] };
}

function headlines(results: Json): string[] {
  const lines: string[] = [];
  const counts = list(results["counts"]).map(obj);
  lines.push(
    `marker ${JSON.stringify(results["marker"])} (token ${String(results["markerId"])}); ` +
      `positives/negatives: ${counts.map((c) => `${c["persona"]}/seed ${c["runSeed"]} ${c["positives"]}+ ${c["negatives"]}−`).join(", ") || "none"}`,
  );
  for (const s of list(results["skipped"]).map(obj)) {
    lines.push(
      `skipped: ${String(s["persona"])} seed ${String(s["runSeed"])} (${String(s["stage"])}): ${String(s["reason"])}`,
    );
  }
  for (const p of list(obj(results["analysis"])["personas"]).map(obj)) {
    const pooled = obj(p["pooled"]);
    for (const model of ["trained", "comparator"]) {
      const gates = obj(obj(pooled[model])["gates"]);
      if (typeof gates["summary"] === "string") lines.push(`${String(p["persona"])} · ${model}: ${gates["summary"]}`);
    }
    const ff = obj(pooled["forceFeed"]);
    if (typeof ff["summary"] === "string") lines.push(`${String(p["persona"])} · force-feed: ${ff["summary"]}`);
  }
  return lines;
}

/** The toy's known answer (as the command prints it): where the force-feed dd peaks and whether it clears zero. */
function toyVerdict(run: DiscoveredRun, results: Json): string | null {
  const events = list(run.runJson?.["events"]).map(obj);
  const toy = events.map((e) => obj(obj(e["details"])["toy"])).find((t) => typeof t["plantedLayer"] === "number");
  const analysis = obj(results["analysis"]);
  if (!toy) return null;
  const persona = list(analysis["personas"])
    .map(obj)
    .find((p) => p["persona"] === toy["persona"]);
  const dd = obj(obj(obj(obj(persona?.["pooled"])["forceFeed"])["diffOfDiffs"])["B"]);
  const max = obj(dd["max"]);
  if (typeof max["layer"] !== "number")
    return `Toy (${String(toy["plant"])} plant): no force-feed analysis for ${String(toy["persona"])}`;
  const at = list(analysis["layers"]).indexOf(max["layer"]);
  const clears = at >= 0 && list(obj(dd["perLayer"])["semExcludesZero"])[at] === true;
  const mediated = max["layer"] === toy["plantedLayer"] && clears && Number(max["value"]) > 0;
  const planted = toy["plant"] === "attention" ? "attention-mediated" : "not attention-mediated";
  const found = mediated ? "attention-mediated" : "not attention-mediated";
  return (
    `Toy (${String(toy["plant"])} plant, L* = ${String(toy["plantedLayer"])}): force-feed diff-of-diffs peaks at layer ` +
    `${max["layer"]} (SEM bar excludes zero: ${clears ? "yes" : "no"}) → ${found}; planted: ${planted} — ` +
    `${found === planted ? "matches" : "does not match"}`
  );
}

function gatesTable(results: Json): TableData {
  const gates = ["A", "B", "C", "D", "C2", "C3", "C4"];
  const nLayers = list(obj(results["analysis"])["layers"]).length;
  const rows: TableData["rows"] = list(obj(results["analysis"])["headline"])
    .map(obj)
    .map((h) => {
      const g = obj(h["gates"]);
      const peak = obj(h["peakSystemB"]);
      return [
        String(h["persona"]),
        String(h["model"]),
        String(h["runSeed"]),
        num(h["n"]),
        ...gates.map((name) => (typeof g[name] === "number" ? `${g[name]}/${nLayers}` : "n/a")),
        String(h["window"] ?? ""),
        peak["layer"] === undefined ? "" : `L${peak["layer"]} (${num(peak["value"])})`,
        yesNo(h["gateFReframeRequired"]),
        yesNo(h["sinkReframeRequired"]),
      ];
    });
  return {
    title: "Gates per persona, model and seed (layers passing)",
    columns: [
      "persona",
      "model",
      "seed",
      "n",
      ...gates,
      "window",
      "peak δ system (B)",
      "gate-F reframe",
      "sink reframe",
    ],
    rows,
  };
}

const yesNo = (value: unknown) => (value === true ? "yes" : value === false ? "no" : "n/a");
