/**
 * The readouts run pages (`GET /api/run` for every kind but diffing): sae-conditions and attention-marker have their
 * own builders; steer and the follow-ups get a generic page (results.json's headline fields, every figure, a results
 * table); an unknown kind lists the run folder's files. Problems with one file become error panels.
 */
import * as path from "node:path";
import type { ReadoutsRunResponse, TableData } from "../api/readouts-types.ts";
import type { ErrorPanel } from "../api/run-types.ts";
import { DashboardError } from "../errors.ts";
import type { DiscoveredRun } from "./discovered-run.ts";
import { errorPanel, folderEntries, readRunJson } from "./read-run-file.ts";
import { attentionMarkerPage } from "./readouts-attention-marker.ts";
import { readFigures } from "./readouts-figures.ts";
import { generationsPage } from "./readouts-generations.ts";
import { list, num, obj } from "./readouts-json.ts";
import { saeConditionsPage } from "./readouts-sae-conditions.ts";

type Page = Pick<ReadoutsRunResponse, "summary" | "figures" | "tables" | "errors"> &
  Partial<Pick<ReadoutsRunResponse, "generations">>;

export async function readoutsRun(run: DiscoveredRun): Promise<ReadoutsRunResponse> {
  const page: Page =
    run.kind === "readouts-sae-conditions"
      ? await saeConditionsPage(run)
      : run.kind === "readouts-attention-marker"
        ? await attentionMarkerPage(run)
        : run.kind === "readouts-steer" || run.kind === "readouts-follow-up"
          ? await genericPage(run)
          : await fileListPage(run);
  return {
    run: run.id,
    kind: run.kind,
    name: nameOf(run),
    summary: page.summary,
    figures: page.figures,
    tables: page.tables,
    generations: page.generations ?? null,
    errors: [...run.errors, ...page.errors],
  };
}

export async function readoutsGenerations(
  run: DiscoveredRun,
  offset: number,
  limit: number,
): Promise<ReadoutsRunResponse["generations"]> {
  if (run.kind !== "readouts-attention-marker") {
    throw new DashboardError("BAD_REQUEST", `run "${run.id}" has no generations (it is a ${run.kind} run)`, {
      field: "run",
    });
  }
  return (await generationsPage(run, offset, limit)).generations;
}

/** Steer and follow-ups: results.json's scalar and short-list fields as headline lines, figures, one results table. */
async function genericPage(run: DiscoveredRun): Promise<Page> {
  const errors: ErrorPanel[] = [];
  const summary: string[] = [];
  const tables: TableData[] = [];
  try {
    const results = obj(await readRunJson(run, "results.json"));
    for (const [key, value] of Object.entries(results)) {
      if (key === "format" || key === "version") continue;
      if (value === null || ["string", "number", "boolean"].includes(typeof value))
        summary.push(`${key}: ${String(num(value))}`);
      else if (Array.isArray(value) && value.every((v) => typeof v !== "object" || v === null) && value.length <= 12) {
        summary.push(`${key}: ${value.map((v) => String(num(v))).join(", ") || "none"}`);
      } else {
        const table = tableOf(key, value);
        if (table) tables.push(table);
      }
    }
  } catch (error) {
    errors.push(errorPanel(error, "results.json"));
  }
  const { figures, errors: figureErrors } = await readFigures(run, [".", "figures"]);
  return { summary, figures, tables, errors: [...errors, ...figureErrors] };
}

/** An array of flat objects as a table (nested values as short JSON), or null when the value is not one. */
function tableOf(title: string, value: unknown): TableData | null {
  const rows = list(value).map(obj);
  if (rows.length === 0 || rows.length !== list(value).length) return null;
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))].slice(0, 16);
  return {
    title,
    columns,
    rows: rows.slice(0, 500).map((r) => columns.map((c) => cell(r[c]))),
  };
}

function cell(value: unknown): string | number {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return num(value);
  if (typeof value === "string") return value;
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

/** An unknown kind: the run folder's files (one level of folders deep), so they can be opened. */
async function fileListPage(run: DiscoveredRun): Promise<Page> {
  const rows: TableData["rows"] = [];
  for (const entry of await folderEntries(run.dir)) {
    if (entry.name.startsWith(".")) continue;
    if (entry.isFile()) rows.push([fileLink(run, entry.name)]);
    else if (entry.isDirectory()) {
      for (const child of await folderEntries(path.join(run.dir, entry.name))) {
        if (child.isFile() && !child.name.startsWith(".")) rows.push([fileLink(run, `${entry.name}/${child.name}`)]);
      }
    }
  }
  const format = String(obj(run.runJson)["format"] ?? "none");
  return {
    summary: [`A run of a kind this dashboard does not draw (format "${format}"): its files.`],
    figures: [],
    tables: [{ title: "Files", columns: ["file"], rows: rows.slice(0, 1000) }],
    errors: [],
  };
}

/** A link to the file through /api/file (relative: the client maps it to files/<run>/<path> in a static export). */
const fileLink = (run: DiscoveredRun, rel: string) => ({
  text: rel,
  href: `api/file?run=${encodeURIComponent(run.id)}&path=${encodeURIComponent(rel)}`,
});

function nameOf(run: DiscoveredRun): string {
  const name = obj(obj(run.runJson)["config"])["name"];
  return typeof name === "string" && name !== "" ? name : path.basename(run.dir);
}
