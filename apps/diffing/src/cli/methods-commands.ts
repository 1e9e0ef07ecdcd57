/**
 * `methods-report`: runMethods on a config's pair (default configs/diffing/methods.json: the three-plant toy), then
 * the methods report on its run folder; `--from DIR` writes the report of a finished run folder only.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { type AppFlagSpec, CONFIG_FLAG } from "@difflens/app-kit";
import { type ParsedFlags, ProgressBar, UsageError } from "@difflens/common";
import { loadDiffingConfig } from "../config/diffing-config.ts";
import { writeMethodsReport } from "../methods-report/index.ts";
import { type MethodsProgress, runMethods } from "../methods-run/run-methods.ts";

/** configs/diffing/methods.json of this checkout: the three-plant toy, every method. */
export const METHODS_CONFIG = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../../../configs/diffing/methods.json",
);

export const METHODS_REPORT_FLAGS: readonly AppFlagSpec[] = [
  {
    ...CONFIG_FLAG,
    help: "diffing config whose `methods` section says what to run (default: configs/diffing/methods.json, the three-plant toy)",
  },
  {
    name: "out",
    kind: "string",
    value: "DIR",
    path: true,
    help: "run folder (default: the config's runDir); a finished method whose inputs are unchanged is reused",
  },
  {
    name: "from",
    kind: "string",
    value: "DIR",
    path: true,
    help: "write the report of this finished run folder only (no method runs)",
  },
];

export async function methodsReportCommand(flags: ParsedFlags, log: (line: string) => void): Promise<number> {
  const from = flags.from as string | undefined;
  if (from !== undefined && (flags.config !== undefined || flags.out !== undefined))
    throw new UsageError("USAGE", "--from writes the report of a finished run: it takes no --config or --out", {
      field: "--from",
    });
  let runDir: string;
  if (from !== undefined) {
    runDir = path.resolve(from);
    if (!fs.existsSync(path.join(runDir, "methods.json")))
      throw new UsageError("USAGE", `--from ${from}: no methods.json there — not a finished methods run`, {
        field: "--from",
        file: runDir,
      });
  } else {
    const config = loadDiffingConfig(typeof flags.config === "string" ? flags.config : METHODS_CONFIG);
    const outDir = typeof flags.out === "string" ? path.resolve(flags.out) : config.runDir;
    const summary = await runMethods(config, { outDir, log, onProgress: progressBars() });
    const times = Object.entries(summary.timings).map(([k, s]) => `${k} ${s.toFixed(1)} s`);
    log(`methods-report: ${times.join(", ")}; reused: ${summary.reused.join(", ") || "none"}`);
    runDir = summary.runDir;
  }
  const report = await writeMethodsReport(runDir);
  log(`methods-report: ${report.html}`);
  return 0;
}

/** One progress bar per unit (harvest windows, training steps), on stderr. */
function progressBars(): (p: MethodsProgress) => void {
  const bars = new Map<string, ProgressBar>();
  const finished = new Set<string>();
  return (p) => {
    if (finished.has(p.unit)) return;
    let bar = bars.get(p.unit);
    if (bar === undefined) {
      bar = new ProgressBar({ label: p.unit, total: p.total, unit: p.what });
      bars.set(p.unit, bar);
    }
    if (p.done >= p.total) {
      bar.done(p.done);
      finished.add(p.unit);
    } else bar.update(p.done);
  };
}
