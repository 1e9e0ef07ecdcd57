/**
 * Figure data of readouts runs: the JSON that @difflens/plot writes beside each PNG/PDF/SVG (`figureJson`: kind,
 * titles, rows), read as `FigureData` so the page draws it with vega and links the PNG.
 */
import * as path from "node:path";
import type { ErrorPanel, FigureData } from "../api/run-types.ts";
import type { DiscoveredRun } from "./discovered-run.ts";
import { errorPanel, folderEntries, invalidField, pathExists, readRunJson } from "./read-run-file.ts";

const FIGURE_KINDS: readonly FigureData["kind"][] = ["heatmap", "lines", "scatter", "bars", "histogram"];
/** JSON files of a run folder that are never figures. */
const NOT_FIGURES = new Set(["run.json", "results.json", "config.json", "top-features.json", "model.json"]);

/** One figure JSON; RUN_FILE_INVALID when it is not one. */
export async function readFigure(run: DiscoveredRun, rel: string): Promise<FigureData> {
  const json = await readRunJson<Record<string, unknown>>(run, rel);
  if (json === null || typeof json !== "object" || Array.isArray(json))
    throw invalidField(rel, "(root)", "a figure object");
  const kind = json["kind"];
  if (!FIGURE_KINDS.includes(kind as FigureData["kind"]))
    throw invalidField(rel, "kind", FIGURE_KINDS.join(" | "), kind);
  if (!Array.isArray(json["rows"])) throw invalidField(rel, "rows", "an array of data rows");
  const png = rel.replace(/\.json$/, ".png");
  return {
    file: rel,
    kind: kind as FigureData["kind"],
    title: text(json["title"]),
    subtitle: text(json["subtitle"]),
    note: text(json["note"]),
    xTitle: text(json["xTitle"]),
    yTitle: text(json["yTitle"]),
    rows: (json["rows"] as unknown[]).filter(
      (r): r is Record<string, unknown> => r !== null && typeof r === "object" && !Array.isArray(r),
    ),
    png: (await pathExists(path.join(run.dir, png))) ? png : null,
  };
}

/**
 * Every figure JSON in `folders` (relative to the run folder; "." alone, any other one level of subfolders deep, as
 * sae-conditions writes `figures/<position>/` with several positions), ordered by
 * `order` (file-name prefixes) then by name with numbers compared as numbers. Unreadable ones become error panels.
 */
export async function readFigures(
  run: DiscoveredRun,
  folders: readonly string[],
  order: readonly string[] = [],
): Promise<{ figures: FigureData[]; errors: ErrorPanel[] }> {
  const files: string[] = [];
  for (const folder of folders) files.push(...(await jsonFiles(run.dir, folder, folder === "." ? 0 : 1)));
  const rank = (file: string) => {
    const i = order.findIndex((prefix) => path.basename(file).startsWith(prefix));
    return i < 0 ? order.length : i;
  };
  files.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b, "en", { numeric: true }));
  const figures: FigureData[] = [];
  const errors: ErrorPanel[] = [];
  for (const file of files) {
    try {
      figures.push(await readFigure(run, file));
    } catch (error) {
      errors.push(errorPanel(error, file));
    }
  }
  return { figures, errors };
}

async function jsonFiles(root: string, folder: string, depth: number): Promise<string[]> {
  const entries = await folderEntries(path.join(root, folder));
  const out: string[] = [];
  for (const entry of entries) {
    const rel = folder === "." ? entry.name : `${folder}/${entry.name}`;
    if (entry.isFile() && entry.name.endsWith(".json") && !NOT_FIGURES.has(entry.name)) out.push(rel);
    else if (entry.isDirectory() && depth > 0 && !entry.name.startsWith("."))
      out.push(...(await jsonFiles(root, rel, depth - 1)));
  }
  return out;
}

const text = (value: unknown): string | null => (typeof value === "string" && value !== "" ? value : null);
