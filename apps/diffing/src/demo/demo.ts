/**
 * The demo: on the embedded toy pair, train S, D, M, DF, MF, compare, and check that the two-stage comparison
 * recovers the planted direction u (see recovery.ts). Prints per-stage tokens/s and wall time, the check, and
 * each top latent's own decoder cosine with u. The control (no plant: chat = base) must fail the check.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { openRunFolder, readRunRecord, startRunEvent } from "@difflens/app-kit";
import { writeJsonAtomic } from "@difflens/common";
import { runCompare } from "../compare/compare.ts";
import { type DiffingConfig, resolveDiffingConfig, STAGE_NAMES } from "../config/diffing-config.ts";
import { DiffingError } from "../errors.ts";
import { runFeatures } from "../features/features.ts";
import { openPipelineModels } from "../models/open-models.ts";
import { recordDiffingRun } from "../run/run-record.ts";
import { trainStages } from "../stages/pipeline.ts";
import { TOY_SHAPE } from "../toy/toy-files.ts";
import { toyDirections } from "../toy/toy-pair.ts";
import { checkRecovery, type RecoveryReport } from "./recovery.ts";

export interface DemoOptions {
  /** A toy pipeline config (its toy section is overridden by seed / plantScale / plant). */
  readonly config: DiffingConfig;
  readonly seed: number;
  readonly plantScale: number;
  readonly plant: boolean;
  /** Run folder of this demo (default: <config runDir>/../demo/seed-<s>-scale-<x>[-control]). */
  readonly runDir?: string;
  /** |cos| the leading change direction must reach. */
  readonly threshold: number;
  /** Also write features/ (max-activating contexts + HTML page). */
  readonly features: boolean;
  readonly log: (line: string) => void;
  /**
   * A finished demo run of the same seed and config whose S and D stages are copied instead of retrained: both
   * read only the base model (S on text, D on chat data), so a control and a planted run share them exactly.
   * The e2e test uses it to run plant + control within its time budget.
   */
  readonly reuseBaseStagesFrom?: string;
}

export interface DemoResult {
  readonly report: RecoveryReport;
  readonly passed: boolean;
  readonly wallS: number;
  readonly runDir: string;
  readonly stages: ReadonlyArray<{ stage: string; wallS: number; tokensPerS: number; harvestTokensPerS: number }>;
  readonly scatterPng: string;
  /** chatData.trainRegions of the run (null = all tokens). */
  readonly trainRegions: readonly string[] | null;
}

export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  if (o.config.toy === null)
    throw new DiffingError(
      "CONFIG_INVALID",
      "demo: the config has no toy section (the demo needs a known planted direction)",
      { field: "toy", fix: "use configs/diffing/default.json or a config with a toy section" },
    );
  const event = startRunEvent("demo");
  const tag = `seed-${o.seed}-scale-${o.plantScale}${o.plant ? "" : "-control"}`;
  // The demo always trains afresh: its point is to show the method working, with timings.
  const runDir = openRunFolder(o.runDir ?? path.join(path.dirname(o.config.runDir), "demo", tag), { fresh: true });
  if (o.reuseBaseStagesFrom !== undefined) copyBaseStages(o.reuseBaseStagesFrom, runDir, o.seed, o.config);
  const { file: _file, ...rest } = o.config;
  const config = resolveDiffingConfig(
    { ...rest, toy: { ...o.config.toy, seed: o.seed, plantScale: o.plantScale, plant: o.plant }, runDir },
    path.dirname(runDir),
    o.config.file,
  );
  o.log(
    `demo: toy seed ${o.seed}, plant scale ${o.plantScale}${o.plant ? "" : " — CONTROL: no plant (chat model = base model); the check must fail"} → ${runDir}`,
  );
  const models = await openPipelineModels(config, o.log);
  const records = await trainStages(config, ["DF", "MF"], {
    withParents: true,
    withParentsReason: "the demo trains every stage",
    log: o.log,
    models,
  });
  const cmp = await runCompare(config, o.log);
  if (o.features) await runFeatures(config, models, o.log);
  models.close();
  const u = toyDirections({ seed: o.seed, plantScale: o.plantScale, ...TOY_SHAPE }).planted;
  const report = checkRecovery(cmp.saes, cmp.ranking, u, config.compare.topK, o.threshold);
  const done = event.end({ leadingCos: report.leadingCos, passed: report.passed, plant: o.plant });
  const wallS = done.wallS;
  const stages = STAGE_NAMES.map((s) => ({
    stage: s,
    wallS: records[s]!.timings.wallS,
    tokensPerS: records[s]!.timings.tokensPerS,
    harvestTokensPerS: records[s]!.timings.harvestTokensPerS,
  }));
  const result: DemoResult = {
    report,
    passed: report.passed,
    wallS,
    runDir,
    stages,
    scatterPng: cmp.figures[0]!,
    trainRegions: config.chatData.trainRegions,
  };
  writeJsonAtomic(path.join(runDir, "demo", "recovery.json"), {
    seed: o.seed,
    plantScale: o.plantScale,
    plant: o.plant,
    ...report,
    planted: Array.from(u),
    wallS,
    stages,
  });
  recordDiffingRun(runDir, config, config.sae.seed, done);
  return result;
}

/** S and D of another finished demo run (same toy seed, same stage-defining config), copied into runDir. */
function copyBaseStages(from: string, runDir: string, seed: number, config: DiffingConfig): void {
  const recovery = path.join(from, "demo", "recovery.json");
  const record = readRunRecord(from);
  if (!fs.existsSync(recovery) || record === null)
    throw new DiffingError(
      "STAGE_MISSING",
      `demo: ${from} is not a finished demo run (no demo/recovery.json or run.json)`,
      { file: recovery },
    );
  const got = JSON.parse(fs.readFileSync(recovery, "utf8")) as { seed: number };
  const source = record.config as Record<string, unknown>;
  // What S and D depend on besides the base model (fixed by the seed); file paths are left out (stored relative).
  const defining = (c: Record<string, unknown>) => {
    const text = c.textData as Record<string, unknown>,
      chat = c.chatData as Record<string, unknown>,
      stages = c.stages as Record<string, unknown>;
    return JSON.stringify([
      c.hook,
      c.sae,
      c.mask,
      c.harvest,
      stages.S,
      stages.D,
      text.contextSize,
      text.column,
      chat.contextSize,
      chat.trainRegions,
      chat.format,
      chat.instructionIn,
      chat.overflow,
    ]);
  };
  if (got.seed !== seed || defining(source) !== defining(config as unknown as Record<string, unknown>)) {
    throw new DiffingError(
      "PARENT_MISMATCH",
      `demo: ${from} was made with another toy seed or another S/D config; its S and D cannot be reused`,
      { file: path.join(from, "run.json"), expected: seed, got: got.seed },
    );
  }
  for (const s of ["S", "D"])
    fs.cpSync(path.join(from, "stages", s), path.join(runDir, "stages", s), { recursive: true });
}

/** The demo's report, as printed. */
export function formatDemo(r: DemoResult, plant: boolean): string {
  const rep = r.report;
  const lines = [
    "",
    "per-stage timings (tokens/s = SAE rows trained per second of wall time, harvest included; harvest = model forward to the hook):",
    ...r.stages.map(
      (s) =>
        `  ${s.stage.padEnd(3)} ${s.wallS.toFixed(1).padStart(6)} s  ${s.tokensPerS.toFixed(0).padStart(7)} tok/s  (harvest ${s.harvestTokensPerS.toFixed(0)} tok/s)`,
    ),
    "",
    `chat data: ${r.trainRegions === null ? "every token except the masked special tokens" : `trained on ${r.trainRegions.join(" + ")} tokens only — the system prompt, role headers and template newlines are a data shift of their own (its mean sits 0.5–0.8 × the median residual norm from the text mean in the toy, seeds 0–4: about the plant's own size at scale 0.5–0.75) that M→MF would otherwise mix into the top changes`}`,
    `top ${rep.topLatents.length} latents of the two-stage ranking (lowest cos(D,DF) + cos(M,MF)), each one's own decoder cosine with u:`,
    "  rank latent  cos(DF_i,u)  cos(MF_i,u)  cos(DF_i−D_i,u)  cos(MF_i−M_i,u)",
    ...rep.perLatent.map(
      (p) =>
        `  ${String(p.rank).padStart(4)} ${String(p.latent).padStart(6)}  ${f(p.cosDF, 11)}  ${f(p.cosMF, 11)}  ${f(p.cosChangeDF, 15)}  ${f(p.cosChangeMF, 15)}`,
    ),
    `best single latent (any rank): ${rep.bestSingle.latent} in ${rep.bestSingle.stage}, |cos| ${rep.bestSingle.cos.toFixed(3)}, rank ${rep.bestSingle.rank}`,
    "",
    `recovery check: leading direction of the stacked decoder changes (DF−D, MF−M) of the top ${rep.topLatents.length} latents has |cos| = ${rep.leadingCos.toFixed(3)} with the planted u (explains ${(rep.explained * 100).toFixed(0)}% of the stack); required ≥ ${rep.threshold}`,
    rep.passed
      ? `PASS${plant ? "" : " — but this is the CONTROL (no plant): the check should have failed"}`
      : `FAIL${plant ? "" : " — as it must for the control: without a plant there is no direction to find"}`,
    `demo wall time ${r.wallS.toFixed(1)} s; scatter: ${r.scatterPng} (the toy's latents crowd near cos 1: see the zoom ${r.scatterPng.replace(/\.png$/, "-zoom.png")})`,
  ];
  return lines.join("\n");
}

function f(v: number, w: number): string {
  return (Number.isFinite(v) ? v.toFixed(3) : "NaN").padStart(w);
}
