/**
 * `pnpm dashboard <folder> --export <out>`: the dashboard as files that open from disk, no server.
 *
 * The same page builders the server calls answer every GET the client makes for the served runs; each answer goes to
 * `data/<staticDataKey>.js` as a classic script that assigns into `window.__DIFFLENS_STATIC__` (a `file://` page may
 * load scripts, but not fetch JSON). Figure files the pages show go to `files/<runId>/<path>`, the web build to
 * `assets/`, and `index.html` says "static". The whole folder is written beside `out` and renamed in at the end, so a
 * reader never sees half an export.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { checkOutputOutside, writeFolderAtomic } from "@difflens/common";
import type { ScatterPoint } from "../api/diffing-types.ts";
import { GENERATIONS_PAGE_SIZE, type RouteName, STATIC_GLOBAL, staticDataKey } from "../api/routes.ts";
import type { ErrorPanel, RunListResponse } from "../api/run-types.ts";
import { DashboardError } from "../errors.ts";
import { diffingRun } from "../runs/diffing-run.ts";
import { diffingScatter } from "../runs/diffing-scatter.ts";
import { discoverRuns } from "../runs/discover.ts";
import type { DiscoveredRun } from "../runs/discovered-run.ts";
import { featureExport } from "../runs/feature-export.ts";
import { featurePage } from "../runs/feature-page.ts";
import { readoutsGenerations, readoutsRun } from "../runs/readouts-run.ts";
import { runSummary } from "../runs/run-summary.ts";
import { indexHtml } from "../server/index-html.ts";
import { ensureWebBuild } from "../server/web-build.ts";
import { copyAssets, copyRunFile } from "./export-files.ts";

export interface StaticExportOptions {
  /** Replace an existing export at `outDir` (swapped in whole). Default false. */
  force?: boolean;
  /** Feature pages per diffing run: the top latents by the two-stage rank, in every stage present. Default 500. */
  maxFeatureLatents?: number;
  /** The built web client (dist/web); default: build it when missing or stale. */
  webDir?: string;
  log?: (line: string) => void;
}

export const DEFAULT_MAX_FEATURE_LATENTS = 500;

/** Writes the static export of every run under `root` to `outDir`; resolves to the count and size of its files. */
export async function exportStatic(
  root: string,
  outDir: string,
  options: StaticExportOptions = {},
): Promise<{ files: number; bytes: number }> {
  checkOutputOutside(outDir, [root]); // the served folder is read-only, and replacing `out` must not destroy it
  const log = options.log ?? (() => {});
  const webDir = options.webDir ?? (await ensureWebBuild({ log }));
  const runs = await discoverRuns(root);
  return writeFolderAtomic(
    outDir,
    async (dir) => {
      const writer = new ExportWriter(dir);
      const list: RunListResponse = { root: basename(resolve(root)) || "/", runs: runs.map(runSummary), live: false };
      writer.data("runs", {}, list);
      for (const run of runs) {
        // As the server's run route: diffing runs by their builder, every other kind by the readouts one. A run the
        // builders cannot answer at all (the server's 422) is left out; its page then says it is not in the export.
        try {
          if (run.kind === "diffing") await exportDiffingRun(writer, run, options, log);
          else await exportReadoutsRun(writer, run);
        } catch (error) {
          if (!(error instanceof DashboardError)) throw error;
          log(`static export: ${run.id}: left out: ${error.message}`);
        }
      }
      writer.text("index.html", indexHtml("static"));
      writer.count(copyAssets(webDir, join(dir, "assets")));
      log(`static export: ${runs.length} run(s), ${writer.files} files, ${(writer.bytes / 1e6).toFixed(1)} MB`);
      return { files: writer.files, bytes: writer.bytes };
    },
    { force: options.force ?? false },
  );
}

async function exportDiffingRun(
  writer: ExportWriter,
  run: DiscoveredRun,
  options: StaticExportOptions,
  log: (line: string) => void,
): Promise<void> {
  const page = await diffingRun(run);
  const scatter = await diffingScatter(run, "decoder");
  writer.data("scatter", { run: run.id, space: "decoder" }, scatter);
  writer.data("scatter", { run: run.id, space: "encoder" }, await diffingScatter(run, "encoder"));
  for (const figure of page.figures) {
    for (const file of [figure.file, figure.png]) if (file) writer.count(await copyRunFile(run, file, writer.dir));
  }
  const stages = page.stages.filter((stage) => stage.checkpoint !== null).map((stage) => stage.stage);
  const ranked = rankedLatents(scatter.points, page.dSae ?? scatter.dSae);
  const max = options.maxFeatureLatents ?? DEFAULT_MAX_FEATURE_LATENTS;
  const latents = ranked.slice(0, max);
  if (latents.length < ranked.length) {
    const note = `this static export holds the feature pages of the top ${max} of ${ranked.length} latents by rank; run \`pnpm dashboard\` on the run folder for all of them`;
    page.errors = [...page.errors, { file: "features", message: note } satisfies ErrorPanel];
    log(`static export: ${run.id}: ${note}`);
  }
  for (const latent of latents) {
    for (const stage of stages) {
      // A page the builder refuses (e.g. a latent missing from one stage) is left out: the client says so.
      const feature = await featurePage(run, stage, latent).catch((error: unknown) => {
        log(`static export: ${run.id}: no feature page ${stage}/${latent}: ${(error as Error).message}`);
        return null;
      });
      if (feature === null) continue;
      writer.data("feature", { run: run.id, stage, latent }, feature);
      // The page's "Export (Neuronpedia JSON)" link downloads this in static mode.
      writer.data("featureExport", { run: run.id, stage, latent }, await featureExport(run, stage, latent));
    }
  }
  writer.data("run", { run: run.id }, page);
}

/** Latent indices by the two-stage rank (1 first); index order when the scatter has no points (no compare/ yet). */
function rankedLatents(points: readonly ScatterPoint[], dSae: number): number[] {
  if (points.length === 0) return Array.from({ length: dSae }, (_, latent) => latent);
  return [...points].sort((a, b) => a.rank - b.rank).map((point) => point.latent);
}

async function exportReadoutsRun(writer: ExportWriter, run: DiscoveredRun): Promise<void> {
  const page = await readoutsRun(run);
  writer.data("run", { run: run.id }, page);
  for (const figure of page.figures) {
    for (const file of [figure.file, figure.png]) if (file) writer.count(await copyRunFile(run, file, writer.dir));
  }
  // The pages the client asks for: the same `limit` and offsets as its pager (see GENERATIONS_PAGE_SIZE).
  const total = page.generations?.total ?? 0;
  const limit = Math.max(page.generations?.items.length ?? 0, GENERATIONS_PAGE_SIZE);
  for (let offset = 0; offset < total; offset += limit) {
    writer.data("generations", { run: run.id, offset, limit }, await readoutsGenerations(run, offset, limit));
  }
}

/** Writes the export's files (plain writes: the whole folder is renamed in atomically) and counts them. */
class ExportWriter {
  files = 0;
  bytes = 0;
  constructor(readonly dir: string) {}

  /** One GET answer as `data/<key>.js`, the script the client's static mode injects. */
  data(route: RouteName, query: Record<string, string | number>, response: unknown): void {
    const key = staticDataKey(route, query);
    const script = `(window.${STATIC_GLOBAL} ||= {})[${JSON.stringify(key)}] = ${JSON.stringify(response)};\n`;
    this.text(join("data", `${key}.js`), script);
  }

  text(relPath: string, content: string): void {
    const bytes = Buffer.from(content, "utf8");
    mkdirSync(dirname(join(this.dir, relPath)), { recursive: true });
    writeFileSync(join(this.dir, relPath), bytes, { flag: "wx" });
    this.count({ files: 1, bytes: bytes.byteLength });
  }

  count(written: { files: number; bytes: number }): void {
    this.files += written.files;
    this.bytes += written.bytes;
  }
}
