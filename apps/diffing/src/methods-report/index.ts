/**
 * `writeMethodsReport(runDir)`: the methods page of one methods run folder (see run-folder.ts) —
 *   <outDir>/index.html            one static page (no scripts), figures inline as SVG
 *   <outDir>/report.json           every number the page shows (format "difflens-methods-report")
 *   <outDir>/figures/<name>.{svg,png,pdf,json,csv}   relative-norms-<kind>, latent-scaling-<kind>, direction-cosines
 * outDir defaults to <runDir>/report. Methods the run did not do are shown as "not run"; a malformed folder is a
 * DiffingError METHODS_RUN_INVALID naming the file. Written beside outDir and swapped in when complete (an old report
 * is replaced).
 */
import * as path from "node:path";
import { writeOutputFolder } from "@difflens/app-kit";
import { writeFileAtomic } from "@difflens/common";
import { writeReportFigures } from "./figures.ts";
import { methodsPage } from "./page.ts";
import { buildMethodsReport, type MethodsReport, reportJson } from "./report-data.ts";
import { readMethodsRun } from "./run-folder.ts";

export { ABSENT_MAX, FOUND_MIN } from "./known-answer.ts";
export { METHODS_REPORT_FORMAT, type MethodsReport } from "./report-data.ts";
export { METHOD_KEYS, METHODS_RUN_FORMAT, type MethodKey, type MethodsRun, readMethodsRun } from "./run-folder.ts";

export interface MethodsReportFiles {
  readonly html: string;
  readonly json: string;
  /** Every figure file written (svg, png, pdf). */
  readonly figures: string[];
  readonly report: MethodsReport;
}

export async function writeMethodsReport(
  runDir: string,
  options: { readonly outDir?: string } = {},
): Promise<MethodsReportFiles> {
  const run = await readMethodsRun(runDir);
  const outDir = path.resolve(options.outDir ?? path.join(run.dir, "report"));
  const report = await buildMethodsReport(run);
  const link = (fromRun: string) => path.relative(outDir, path.join(run.dir, fromRun)).split(path.sep).join("/");
  const figures = await writeOutputFolder(
    outDir,
    async (tmp) => {
      const written = await writeReportFigures(
        report,
        { batchtopk: run.crosscoders.batchtopk?.relativeNorms ?? null, l1: run.crosscoders.l1?.relativeNorms ?? null },
        tmp,
      );
      writeFileAtomic(path.join(tmp, "report.json"), reportJson(report));
      writeFileAtomic(path.join(tmp, "index.html"), methodsPage(report, written, link));
      return written;
    },
    // The report is derived from the run folder alone: regenerating it replaces the old one.
    { force: true, what: "methods report" },
  );
  return {
    html: path.join(outDir, "index.html"),
    json: path.join(outDir, "report.json"),
    figures: figures.flatMap((f) => [f.svg, f.png, f.pdf].map((p) => path.join(outDir, p))),
    report,
  };
}
