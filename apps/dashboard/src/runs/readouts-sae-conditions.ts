/**
 * An sae-conditions run's page: the headline (the toy's known answer when the run is the embedded toy, warnings),
 * its figures (similarity heatmap, Track A per pair and layer, Track B counts) and tables (Track A, Track B counts
 * and top features with links to feature pages when the SAE is a served diffing run's stage). Reads results.json
 * (apps/readouts/README.md, "Outputs").
 */
import type { ReadoutsRunResponse, TableData } from "../api/readouts-types.ts";
import type { ErrorPanel } from "../api/run-types.ts";
import type { DiscoveredRun } from "./discovered-run.ts";
import { errorPanel, readRunJson } from "./read-run-file.ts";
import { readFigures } from "./readouts-figures.ts";
import { type Json, list, num, obj } from "./readouts-json.ts";
import { latentCell, type StageLink, stageLinkOf } from "./readouts-links.ts";

type Page = Pick<ReadoutsRunResponse, "summary" | "figures" | "tables" | "errors">;

const FIGURE_ORDER = ["similarity-heatmap", "track-a-", "track-b-counts", "behaviour-"];

export async function saeConditionsPage(run: DiscoveredRun): Promise<Page> {
  const errors: ErrorPanel[] = [];
  const summary: string[] = [];
  const tables: TableData[] = [];
  let results: Json | null = null;
  try {
    results = await readRunJson<Json>(run, "results.json");
  } catch (error) {
    errors.push(errorPanel(error, "results.json"));
  }
  if (results) {
    const positions = [results, ...list(results["readouts"]).map(obj)];
    summary.push(headline(results));
    const verdict = toyVerdict(run, results);
    if (verdict) summary.push(verdict);
    for (const at of positions)
      for (const w of list(at["warnings"])) summary.push(`warning (${String(at["position"])}): ${String(w)}`);
    const links = layerLinks(run);
    tables.push(trackATable(positions), trackBCountsTable(positions), topFeaturesTable(positions, links));
  }
  const { figures, errors: figureErrors } = await readFigures(run, ["figures"], FIGURE_ORDER);
  return { summary, figures, tables, errors: [...errors, ...figureErrors] };
}

function headline(results: Json): string {
  const conditions = list(results["conditions"]).map((c) => String(obj(c)["label"]));
  const positions = list(results["positions"]).map(String);
  return (
    `${results["nPrompts"] ?? "?"} prompts × ${conditions.length} conditions (${conditions.join(", ")}); ` +
    `readout ${positions.join(", ") || String(results["position"])}; SAE encode ${String(results["encodeRule"] ?? "?")}; ` +
    `layers ${list(results["layers"])
      .map((l) => obj(l)["layer"])
      .join(", ")}`
  );
}

/** The embedded toy's known answer (run.json's event names the toy): u first by |d_z| in the planted pairs. */
function toyVerdict(run: DiscoveredRun, results: Json): string | null {
  const events = list(run.runJson?.["events"]).map(obj);
  const toy = events.map((e) => obj(obj(e["details"])["toy"])).find((t) => typeof t["uLatent"] === "number");
  if (!toy) return null;
  const planted = String(toy["plantedCondition"]);
  const layers = list(results["layers"]).map(obj);
  const pairs = layers.flatMap((l) =>
    list(l["trackB"])
      .map(obj)
      .filter((b) => list(b["pair"]).includes(planted)),
  );
  const first = pairs.filter((b) => obj(list(b["top"])[0])["latent"] === toy["uLatent"]).length;
  const ps = layers.flatMap((l) => list(l["trackA"]).map((a) => Number(obj(a)["pValue"])));
  const p = ps.length > 0 ? ` Track A on {u}: p ≤ ${Math.max(...ps).toPrecision(3)}.` : "";
  const verdict = first === pairs.length && pairs.length > 0 ? "recovered" : "not recovered";
  return (
    `Toy: planted condition "${planted}", u = latent ${String(toy["uLatent"])}: first by |d_z| in ${first}/${pairs.length} ` +
    `planted (pair, layer)s — ${verdict}.${p}`
  );
}

function trackATable(positions: Json[]): TableData {
  const rows: TableData["rows"] = [];
  for (const at of positions) {
    for (const layer of list(at["layers"]).map(obj)) {
      for (const a of list(layer["trackA"]).map(obj)) {
        rows.push([
          String(at["position"]),
          num(layer["layer"]),
          list(a["pair"]).join(" vs "),
          list(a["chosen"]).join(", "),
          num(a["statistic"]),
          num(a["nullMean"]),
          num(a["pValue"]),
          `${a["nPositive"] ?? "?"}+ / ${a["nNegative"] ?? "?"}−`,
        ]);
      }
    }
  }
  return {
    title: "Track A: the chosen latents' projection of the mean difference",
    columns: ["position", "layer", "pair", "latents", "T", "null mean", "p", "signs"],
    rows,
  };
}

function trackBCountsTable(positions: Json[]): TableData {
  const rows: TableData["rows"] = [];
  for (const at of positions) {
    for (const layer of list(at["layers"]).map(obj)) {
      for (const b of list(layer["trackB"]).map(obj)) {
        const c = obj(b["counts"]);
        rows.push([
          String(at["position"]),
          num(layer["layer"]),
          list(b["pair"]).join(" vs "),
          num(c["familywise"]),
          num(c["perFeature"]),
          num(c["degenerate"]),
          num(c["inactive"]),
          num(c["tested"]),
          b["allDegenerate"] === true ? "all degenerate" : "",
        ]);
      }
    }
  }
  return {
    title: "Track B: latents passing the sign-flip permutation test",
    columns: ["position", "layer", "pair", "family-wise", "per-feature", "degenerate", "inactive", "tested", "note"],
    rows,
  };
}

function topFeaturesTable(positions: Json[], links: Map<string, StageLink | null>): TableData {
  const rows: TableData["rows"] = [];
  for (const at of positions) {
    for (const layer of list(at["layers"]).map(obj)) {
      const link = links.get(String(layer["layer"])) ?? null;
      for (const b of list(layer["trackB"]).map(obj)) {
        list(b["top"])
          .map(obj)
          .forEach((t, i) => {
            rows.push([
              String(at["position"]),
              num(layer["layer"]),
              list(b["pair"]).join(" vs "),
              i + 1,
              latentCell(Number(t["latent"]), link, t["link"]),
              num(t["dz"]),
              num(t["t"]),
              num(t["meanDifference"]),
              num(t["pFamilywise"]),
            ]);
          });
      }
    }
  }
  return {
    title: "Track B: top latents by |d_z|",
    columns: ["position", "layer", "pair", "rank", "latent", "d_z", "t", "mean diff", "p (family-wise)"],
    rows,
  };
}

/** Per layer, whether its SAE is a served diffing run's stage (then latents link to feature pages). */
function layerLinks(run: DiscoveredRun): Map<string, StageLink | null> {
  const saes = obj(obj(run.runJson?.["config"])["saes"]);
  return new Map(Object.entries(saes).map(([layer, dir]) => [layer, stageLinkOf(run, dir)]));
}
