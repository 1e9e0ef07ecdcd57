/**
 * Trains one pipeline stage (or adopts a pretrained S): checks the parent (finished, same hook, d_in, d_sae and k),
 * records the stage's fingerprint when it starts, harvests the stage's model on the stage's data, trains or
 * finetunes with lineage, resumes an interrupted run, and writes stages/<name>/stage.json with the fingerprint,
 * parent, model, data, config and timings (paths relative to the run). Whether an existing stage may be used or
 * resumed is decided before (pipeline.ts, stage-check.ts).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { sha256File, writeJsonAtomic } from "@difflens/common";
import { loadSae, newTrainState, resolveSaeTrainConfig, saeWeightsSha256, writeSaeFolder } from "@difflens/sae";
import { Rng } from "@difflens/tensor";
import { type DiffingConfig, STAGE_NAMES, type StageName } from "../config/diffing-config.ts";
import { trainingStream } from "../data/activation-stream.ts";
import { chatDataWindows, epochs, maskRulesOf, textWindows } from "../data/windows.ts";
import { DiffingError } from "../errors.ts";
import type { PipelineModels } from "../models/open-models.ts";
import type { StageFingerprints } from "./stage-fingerprint.ts";
import {
  readStageRecord,
  STAGE_FINGERPRINT_FILE,
  STAGES,
  type StageRecord,
  stageCheckpoint,
  stageDir,
} from "./stage-plan.ts";
import { stepsFor, trainRun } from "./train-run.ts";

export interface StageContext {
  readonly config: DiffingConfig;
  readonly models: PipelineModels;
  readonly log: (line: string) => void;
  /** The config's fingerprints of every stage (checked against the run folder before any stage runs). */
  readonly fingerprints: StageFingerprints;
}

/** Refuses a parent checkpoint made for another hook, width, dictionary size or k. */
export function checkParent(parentCk: string, config: DiffingConfig, dIn: number, stage: StageName): void {
  const cfgFile = path.join(parentCk, "cfg.json");
  const cfg = JSON.parse(fs.readFileSync(cfgFile, "utf8")) as {
    d_in: number;
    num_latents: number;
    k: number;
    difflens?: { hookName: string | null };
  };
  const facts: Array<[string, unknown, unknown]> = [
    ["hook", cfg.difflens?.hookName ?? null, config.hook],
    ["d_in", cfg.d_in, dIn],
    ["d_sae", cfg.num_latents, config.sae.dSae],
    ["k", cfg.k, config.sae.k],
  ];
  for (const [field, got, expected] of facts) {
    if (got !== expected && !(field === "hook" && got === null)) {
      throw new DiffingError(
        "PARENT_MISMATCH",
        `stage ${stage}: its parent ${parentCk} has ${field} = ${JSON.stringify(got)}, this config needs ${JSON.stringify(expected)} — latent i would not be the same feature`,
        {
          file: cfgFile,
          field,
          expected,
          got,
          fix: `retrain the parent under this config (--retrain ${STAGES[stage].parent}) or use a config that matches it`,
        },
      );
    }
  }
}

export async function runStage(ctx: StageContext, stage: StageName): Promise<StageRecord> {
  const { config, models, log } = ctx;
  const plan = STAGES[stage];
  const dir = stageDir(config, stage);
  const done = readStageRecord(config, stage);
  if (done) {
    const fingerprint = done.fingerprintDigest?.slice(0, 12);
    log(
      `${stage} (${plan.alias}): already trained under this config (fingerprint ${fingerprint}) — ${done.checkpoint}`,
    );
    return done;
  }
  const model = plan.model === "base" ? models.base : models.chat;
  const dIn = model
    .hookShape(config.hook, 1, 1)
    .slice(2)
    .reduce((a, b) => a * b, 1);
  const stageCfg = config.stages[stage];
  const fingerprint = { digest: ctx.fingerprints.digests[stage], fields: ctx.fingerprints.fields[stage] };
  fs.mkdirSync(dir, { recursive: true });
  const startedFile = path.join(dir, STAGE_FINGERPRINT_FILE);
  if (!fs.existsSync(startedFile)) writeJsonAtomic(startedFile, fingerprint);
  if (stage === "S" && stageCfg.pretrained !== null) return adoptPretrained(ctx, dIn);

  let parent: StageRecord | null = null;
  if (plan.parent) {
    parent = readStageRecord(config, plan.parent);
    if (!parent) {
      throw new DiffingError(
        "PARENT_MISSING",
        `stage ${stage} finetunes ${plan.parent}, which is not trained in ${config.runDir}`,
        {
          fix: `run \`pnpm --filter diffing ${STAGES[plan.parent].command}\` with this config first, or pass --with-parents`,
        },
      );
    }
    checkParent(stageCheckpoint(config, parent), config, dIn, stage);
  }

  const stageIndex = STAGE_NAMES.indexOf(stage);
  const seed = config.sae.seed * 1000 + stageIndex * 17 + 1;
  const rules = maskRulesOf(config.mask, models.tokenizer);
  const windows =
    plan.data === "text"
      ? epochs((s) => textWindows(config.textData, models.tokenizer, rules, s), seed, "textData")
      : epochs((s) => chatDataWindows(config.chatData, models.tokenizer, models.template, rules, s), seed, "chatData");
  const steps = stepsFor(stageCfg.tokens, config.sae.batchSize);
  const timing = { harvestMs: 0, harvestedRows: 0 };
  const source = trainingStream(config, model, windows, { seed, steps, timing });
  const modelDesc = plan.model === "base" ? models.describe.base : models.describe.chat;
  const dataDesc =
    plan.data === "text"
      ? describeFiles(config, config.textData.files, `text, context ${config.textData.contextSize}`)
      : describeFiles(
          config,
          config.chatData.files,
          `chat (${config.chatData.format}), context ${config.chatData.contextSize}`,
        );
  const resuming = fs.existsSync(path.join(dir, "latest.json"));
  log(
    `${stage} (${plan.alias}): ${parent ? `finetune ${plan.parent}` : "from scratch"} on ${modelDesc} × ${dataDesc}, ${steps} steps × ${config.sae.batchSize} rows${resuming ? " (resuming)" : ""}`,
  );
  const run = await trainRun({
    label: stage,
    outDir: dir,
    source,
    sae: config.sae,
    hook: config.hook,
    tokens: stageCfg.tokens,
    lr: stageCfg.lr,
    finetuneFrom: parent ? stageCheckpoint(config, parent) : null,
    resume: true,
    wandb: {
      ...config.wandb,
      dir: path.join(config.runDir, "wandb"),
      group: config.name,
      name: `${config.name}-${stage}`,
      config: { stage, alias: plan.alias, model: modelDesc, data: dataDesc, hook: config.hook },
    },
    timing,
    log,
  });
  const finalDir = run.result.finalDir!;
  finishCheckpointConfig(finalDir, config.runDir, fingerprint);
  const sha256 = sha256File(path.join(finalDir, "sae.safetensors"));
  const trainedRows = run.result.state.tokensSeen - run.resumedFromStep * config.sae.batchSize;
  const record: StageRecord = {
    stage,
    alias: plan.alias,
    status: "done",
    checkpoint: path.relative(config.runDir, finalDir),
    sha256,
    step: run.result.state.step,
    tokens: run.result.state.tokensSeen,
    parent: parent
      ? { stage: parent.stage, checkpoint: parent.checkpoint, sha256: parent.sha256, step: parent.step }
      : null,
    adoptedFrom: null,
    model: modelDesc,
    data: dataDesc,
    trainConfig: run.trainConfig,
    timings: {
      wallS: run.wallS,
      harvestS: timing.harvestMs / 1000,
      tokensPerS: trainedRows / run.wallS,
      harvestTokensPerS: timing.harvestedRows / Math.max(1e-9, timing.harvestMs / 1000),
      resumedFromStep: run.resumedFromStep,
    },
    final: pick(run.final, ["loss", "fvu", "explained_variance", "l0", "dead_fraction"]),
    wandbFolder: run.wandbFolder ? path.relative(config.runDir, run.wandbFolder) : null,
    fingerprint: fingerprint.fields,
    fingerprintDigest: fingerprint.digest,
  };
  writeJsonAtomic(path.join(dir, "stage.json"), record);
  log(
    `${stage} (${plan.alias}): done in ${run.wallS.toFixed(1)} s — ${record.timings.tokensPerS.toFixed(0)} tok/s overall, harvest ${record.timings.harvestTokensPerS.toFixed(0)} tok/s, FVU ${fmt(record.final.fvu)}, L0 ${fmt(record.final.l0)}, dead ${fmt((record.final.dead_fraction ?? NaN) * 100)}%`,
  );
  return record;
}

/** Stage S from a pretrained TopK SAE folder (SAELens, sparsify or ours), rewritten as our checkpoint with lineage. */
async function adoptPretrained(ctx: StageContext, dIn: number): Promise<StageRecord> {
  const { config, log } = ctx;
  const src = config.stages.S.pretrained!;
  const sae = await loadSae(src);
  if (
    sae.activation.kind !== "topk" ||
    sae.activation.k !== config.sae.k ||
    sae.dSae !== config.sae.dSae ||
    sae.dIn !== dIn
  ) {
    throw new DiffingError(
      "PARENT_MISMATCH",
      `stages.S.pretrained ${src}: a ${sae.activation.kind}${"k" in sae.activation ? ` k=${sae.activation.k}` : ""} SAE with d_in ${sae.dIn}, d_sae ${sae.dSae}; this config needs TopK k=${config.sae.k}, d_in ${dIn}, d_sae ${config.sae.dSae}`,
      { file: src },
    );
  }
  if (sae.hookName !== null && sae.hookName !== config.hook) {
    throw new DiffingError(
      "PARENT_MISMATCH",
      `stages.S.pretrained ${src} was trained on ${sae.hookName}, this config reads ${config.hook}`,
      { file: src, field: "hook", expected: config.hook, got: sae.hookName },
    );
  }
  const dir = stageDir(config, "S");
  const ckDir = path.join(dir, "checkpoints", "step-00000000");
  const cfg = resolveSaeTrainConfig({ dIn, dSae: sae.dSae, k: config.sae.k, hookName: config.hook });
  const w = sae.weights;
  const state = newTrainState({ wEnc: w.wEnc, bEnc: w.bEnc, wDec: w.wDec, bDec: w.bDec }, cfg, new Rng(0));
  const sha = saeWeightsSha256(src);
  await writeSaeFolder(ckDir, state, cfg, [{ path: src, sha256: sha, step: 0, tokensSeen: 0 }]);
  const fingerprint = { digest: ctx.fingerprints.digests.S, fields: ctx.fingerprints.fields.S };
  finishCheckpointConfig(ckDir, config.runDir, fingerprint);
  writeJsonAtomic(path.join(dir, "latest.json"), { checkpoint: "checkpoints/step-00000000", step: 0 });
  const record: StageRecord = {
    stage: "S",
    alias: STAGES.S.alias,
    status: "done",
    checkpoint: path.relative(config.runDir, ckDir),
    sha256: sha256File(path.join(ckDir, "sae.safetensors")),
    step: 0,
    tokens: 0,
    parent: null,
    adoptedFrom: src,
    model: ctx.models.describe.base,
    data: "pretrained",
    trainConfig: { ...cfg },
    timings: { wallS: 0, harvestS: 0, tokensPerS: 0, harvestTokensPerS: 0, resumedFromStep: 0 },
    final: {},
    wandbFolder: null,
    fingerprint: fingerprint.fields,
    fingerprintDigest: fingerprint.digest,
  };
  writeJsonAtomic(path.join(dir, "stage.json"), record);
  log(`S (sae_s): adopted the pretrained SAE ${src}`);
  return record;
}

/**
 * The final checkpoint's cfg.json: the stage's fingerprint added (the SAE carries what it was trained from, also
 * when copied elsewhere), and the parent's path, recorded by the trainer as given, made relative to the run folder.
 */
function finishCheckpointConfig(ckDir: string, runDir: string, fingerprint: { digest: string; fields: unknown }): void {
  const file = path.join(ckDir, "cfg.json");
  type Block = { lineage?: Array<{ path: string }>; fingerprint?: unknown };
  const cfg = JSON.parse(fs.readFileSync(file, "utf8")) as { difflens?: Block };
  for (const entry of cfg.difflens?.lineage ?? []) {
    if (path.isAbsolute(entry.path) && entry.path.startsWith(runDir)) entry.path = path.relative(runDir, entry.path);
  }
  if (cfg.difflens) cfg.difflens.fingerprint = fingerprint;
  writeJsonAtomic(file, cfg);
}

function describeFiles(config: DiffingConfig, files: readonly string[], what: string): string {
  const base = config.file ? path.dirname(config.file) : config.runDir;
  return `${files.map((f) => path.relative(base, f)).join(", ")} (${what})`;
}

function pick(rec: Record<string, number>, keys: string[]): Record<string, number> {
  return Object.fromEntries(keys.filter((k) => k in rec).map((k) => [k, rec[k]!]));
}

function fmt(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? "?" : v.toFixed(3);
}
