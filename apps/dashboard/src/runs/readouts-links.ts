/**
 * Links from a readouts table to a diffing run's feature page: a latent links only when its SAE is a stage of a
 * diffing run served by this dashboard (`<run>/stages/<S>`); otherwise it stays plain text. The href is the client's
 * full hash route, `#/run/<id>/feature/<stage>/<latent>`, so it works the same over HTTP and in a static export.
 */
import { existsSync } from "node:fs";
import * as path from "node:path";
import { STAGES, type StageName } from "../api/diffing-types.ts";
import type { TableData } from "../api/readouts-types.ts";
import type { DiscoveredRun } from "./discovered-run.ts";
import { isInside } from "./read-run-file.ts";

type Cell = TableData["rows"][number][number];

/** Where an SAE folder points to a served diffing run's stage: that run's id and the stage. */
export interface StageLink {
  runId: string;
  stage: StageName;
}

/** The served root, from a run's absolute folder and its id. */
export function servedRoot(run: Pick<DiscoveredRun, "id" | "dir">): string {
  return run.id === "." ? run.dir : path.resolve(run.dir, ...run.id.split("/").map(() => ".."));
}

/** `saeDir` (absolute or relative to the run folder) as a served diffing run's stage, or null. */
export function stageLinkOf(run: DiscoveredRun, saeDir: unknown): StageLink | null {
  if (typeof saeDir !== "string" || saeDir === "") return null;
  const abs = path.resolve(run.dir, saeDir);
  const match = /^(.*)[\\/]stages[\\/]([A-Z]+)(?:[\\/].*)?$/.exec(abs);
  if (!match || !(STAGES as readonly string[]).includes(match[2]!)) return null;
  const runDir = match[1]!;
  const root = servedRoot(run);
  if (!isInside(root, runDir) || !existsSync(path.join(runDir, "run.json"))) return null;
  const rel = path.relative(root, runDir);
  return { runId: rel === "" ? "." : rel.split(path.sep).join("/"), stage: match[2] as StageName };
}

/** A latent cell: a link to its feature page when `link` is known, an external link when given one, else a number. */
export function latentCell(latent: number, link: StageLink | null, external?: unknown): Cell {
  if (link)
    return { text: String(latent), href: `#/run/${encodeURIComponent(link.runId)}/feature/${link.stage}/${latent}` };
  if (typeof external === "string" && /^https?:\/\//.test(external)) return { text: String(latent), href: external };
  return latent;
}
