/**
 * The demo: on the embedded toy pair, train S, D, M, DF, MF, compare, and check that the two-stage comparison
 * recovers the planted direction u (see recovery.ts). Prints per-stage tokens/s and wall time, the check, and
 * each top latent's own decoder cosine with u. The control (no plant: chat = base) must fail the check.
 * The run folder is built beside its destination and swapped in when complete. The demo's own default folder
 * (runs/diffing/demo/seed-<N>-scale-<X>[-control]) belongs to the demo and is replaced on every run, so the
 * README's `pnpm demo` reruns as it is; a folder the caller names follows the general rule: refused when it is
 * not empty, unless `force`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import {
  diffFingerprints,
  formatFieldChanges,
  refuseExistingOutput,
  startRunEvent,
  writeOutputFolder,
} from "@difflens/app-kit";
import { writeJsonAtomic } from "@difflens/common";
import { runCompare } from "../compare/compare.ts";
import { type DiffingConfig, resolveDiffingConfig, STAGE_NAMES } from "../config/diffing-config.ts";
import { DiffingError } from "../errors.ts";
import { runFeatures } from "../features/features.ts";
import { openPipelineModels } from "../models/open-models.ts";
import { recordDiffingRun } from "../run/run-record.ts";
import { trainStages } from "../stages/pipeline.ts";
import { stageFingerprints } from "../stages/stage-fingerprint.ts";
import type { StageRecord } from "../stages/stage-plan.ts";
import { TOY_SHAPE } from "../toy/toy-files.ts";
import { toyDirections } from "../toy/toy-pair.ts";
import { checkRecovery, type RecoveryReport } from "./recovery.ts";

export interface DemoOptions {
  /** A toy pipeline config (its toy section is overridden by seed / plantScale / plant). */
  readonly config: DiffingConfig;
  readonly seed: number;
  readonly plantScale: number;
  readonly plant: boolean;
  /**
   * Run folder of this demo; refused when not empty unless `force`. Default: <config runDir>/../demo/
   * seed-<s>-scale-<x>[-control], the demo's own folder, replaced on every run.
   */
  readonly runDir?: string;
  /** Replace a non-empty `runDir` (built beside it, swapped in when complete). */
  readonly force?: boolean;
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
  const tag = `seed-${o.seed}-scale-${o.plantScale}${o.plant ? "" : "-control"}`;
  const finalDir = path.resolve(o.runDir ?? path.join(path.dirname(o.config.runDir), "demo", tag));
  const force = o.runDir === undefined || o.force === true;
  const alternatives = "or another --run-dir (the default folder is replaced on every run)";
  refuseExistingOutput(finalDir, { force, what: "demo --run-dir", alternatives });
  return writeOutputFolder(finalDir, (runDir) => demoInto(runDir, finalDir, o), { force });
}

/** The demo, written into `runDir` (a temp folder that becomes `finalDir`); paths in the result are final. */
async function demoInto(runDir: string, finalDir: string, o: DemoOptions): Promise<DemoResult> {
  const event = startRunEvent("demo");
  const { file: _file, ...rest } = o.config;
  const config = resolveDiffingConfig(
    {
      ...rest,
      toy: { ...o.config.toy, seed: o.seed, plantScale: o.plantScale, plant: o.plant },
      runDir,
      // Every latent of the toy gets a feature page with contexts (≈ 4 s more than the top 10 alone).
      features: { ...rest.features, latents: rest.features.latents ?? "all" },
    },
    path.dirname(runDir),
    o.config.file,
  );
  if (o.reuseBaseStagesFrom !== undefined) copyBaseStages(o.reuseBaseStagesFrom, config);
  o.log(
    `demo: toy seed ${o.seed}, plant scale ${o.plantScale}${o.plant ? "" : " — CONTROL: no plant (chat model = base model); the check must fail"} → ${finalDir}`,
  );
  const models = await openPipelineModels(config, o.log);
  const records = await trainStages(config, ["DF", "MF"], {
    withParents: true,
    withParentsReason: "the demo trains every stage",
    log: o.log,
    models,
    command: "demo",
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
  const scatterPng = path.join(finalDir, path.relative(runDir, cmp.figures[0]!));
  const trainRegions = config.chatData.trainRegions;
  const result: DemoResult = {
    report,
    passed: report.passed,
    wallS,
    runDir: finalDir,
    stages,
    scatterPng,
    trainRegions,
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

/**
 * S and D of another finished demo run, copied into this one: both read only the base model, so they are the
 * same SAEs when their fingerprints (toy seed, data, SAE settings…) equal this config's.
 */
function copyBaseStages(from: string, config: DiffingConfig): void {
  const expected = stageFingerprints(config);
  for (const s of ["S", "D"] as const) {
    const file = path.join(from, "stages", s, "stage.json");
    if (!fs.existsSync(file)) {
      throw new DiffingError("STAGE_MISSING", `demo: ${from} has no finished stage ${s} to reuse`, { file });
    }
    const record = JSON.parse(fs.readFileSync(file, "utf8")) as StageRecord;
    if (record.fingerprintDigest !== expected.digests[s]) {
      const changes = formatFieldChanges(diffFingerprints(record.fingerprint, expected.fields[s]));
      const why = changes || "no fingerprint";
      const what = `demo: stage ${s} of ${from} was made under another config (${why}); it cannot be reused`;
      throw new DiffingError("PARENT_MISMATCH", what, { file });
    }
    fs.cpSync(path.join(from, "stages", s), path.join(config.runDir, "stages", s), { recursive: true });
  }
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
