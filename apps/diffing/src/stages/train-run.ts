/**
 * One SAE training run with the app's instrumentation around `trainSae`: progress bar on stderr, metrics to
 * metrics.jsonl (the trainer) and to W&B (offline by default), timings split into harvest and SAE time.
 * A resumed run continues its records instead of duplicating them: metrics.jsonl loses the rows logged after the
 * checkpoint (the trainer logs them again), and the W&B run whose id is kept in wandb-run.json is reopened.
 * Shared by the pipeline stages and the generic `train` / `finetune` commands.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ProgressBar, writeFileAtomic, writeJsonAtomic } from "@difflens/common";
import { latestCheckpoint, type MetricsLogger, type TrainSaeResult, trainSae } from "@difflens/sae";
import type { ActivationSource } from "@difflens/tensor";
import { generateRunId, type WandbRun, init as wandbInit } from "@difflens/wandb";
import type { SaeConfig, WandbConfig } from "../config/sections.ts";

export interface TrainRunOptions {
  readonly label: string;
  readonly outDir: string;
  readonly source: ActivationSource;
  readonly sae: SaeConfig;
  readonly hook: string;
  /** Rows to train on (rounded down to whole batches). */
  readonly tokens: number;
  readonly lr: number | null;
  readonly finetuneFrom: string | null;
  /** Continue from outDir/latest.json when there is one. */
  readonly resume: boolean;
  readonly wandb: WandbConfig & {
    readonly dir: string;
    readonly group: string;
    readonly name: string;
    readonly config: Record<string, unknown>;
  };
  readonly timing: { harvestMs: number; harvestedRows: number };
  readonly log: (line: string) => void;
}

export interface TrainRunResult {
  readonly result: TrainSaeResult;
  readonly trainConfig: Record<string, unknown>;
  readonly wallS: number;
  readonly resumedFromStep: number;
  readonly final: Record<string, number>;
  readonly wandbFolder: string | null;
}

/** Steps a stage takes: whole batches only (the trainer needs ≥ 2 rows per batch). */
export function stepsFor(tokens: number, batchSize: number): number {
  return Math.max(1, Math.floor(tokens / batchSize));
}

/** The SaeTrainConfig of a run (sae package keys), from the app's SAE section. */
export function saeTrainConfig(
  sae: SaeConfig,
  dIn: number,
  hook: string,
  steps: number,
  lr: number | null,
  finetune: boolean,
): Record<string, unknown> {
  return {
    dIn,
    dSae: sae.dSae,
    k: sae.k,
    lr: lr ?? sae.lr,
    hookName: hook,
    maxSteps: steps,
    lrWarmupSteps: Math.min(sae.lrWarmupSteps, Math.floor(steps / (finetune ? 10 : 5))),
    lrDecaySteps: Math.floor(steps * sae.lrDecayFraction),
    lrEndFraction: 0,
    deadAfterTokens: sae.deadAfterTokens,
    normalizeActivations: sae.normalizeActivations,
    seed: sae.seed,
    checkpointEverySteps: sae.checkpointEverySteps,
    keepCheckpoints: 1,
    logEverySteps: Math.max(1, Math.min(100, Math.floor(steps / 40))),
    initSampleTokens: Math.min(32768, steps * sae.batchSize),
  };
}

export async function trainRun(o: TrainRunOptions): Promise<TrainRunResult> {
  const steps = stepsFor(o.tokens, o.sae.batchSize);
  const trainConfig = saeTrainConfig(o.sae, o.source.dIn, o.hook, steps, o.lr, o.finetuneFrom !== null);
  const resumeFrom = o.resume ? await latestCheckpoint(o.outDir) : null;
  const resumedFromStep = resumeFrom
    ? (JSON.parse(fs.readFileSync(path.join(o.outDir, "latest.json"), "utf8")) as { step: number }).step
    : 0;
  if (resumeFrom) {
    o.log(`${o.label}: resuming from step ${resumedFromStep} (${path.relative(o.outDir, resumeFrom)})`);
    dropMetricsAfter(path.join(o.outDir, "metrics.jsonl"), resumedFromStep);
  }
  let run: WandbRun | null = null;
  if (o.wandb.mode !== "disabled") {
    const id = wandbRunId(o.outDir, resumeFrom !== null);
    run = wandbInit(
      {
        project: o.wandb.project,
        entity: o.wandb.entity,
        mode: o.wandb.mode,
        dir: o.wandb.dir,
        name: o.wandb.name,
        group: o.wandb.group,
        jobType: o.label,
        config: { ...o.wandb.config, sae: trainConfig },
        onMissingApiKey: "offline",
        silent: true,
        id: id.id,
        resume: id.resume,
      },
      (m) => o.log(`wandb: ${m}`),
    );
  }
  const rows = (step: number) => step * o.sae.batchSize;
  const bar = new ProgressBar({
    label: o.label.padEnd(3),
    total: rows(steps),
    unit: "tok",
    start: rows(resumedFromStep),
  });
  const last = { loss: NaN, l0: NaN, deadFraction: 0 };
  const progressStats = () =>
    `loss ${last.loss.toFixed(4)} L0 ${last.l0.toFixed(1)} dead ${(last.deadFraction * 100).toFixed(1)}%`;
  const final: Record<string, number> = {};
  const logger: MetricsLogger = {
    log(metrics, step) {
      run?.log(metrics, step);
      Object.assign(final, metrics);
      last.deadFraction = metrics.dead_fraction ?? last.deadFraction;
    },
  };
  const t0 = performance.now();
  const result = await trainSae({
    config: trainConfig,
    source: o.source,
    outDir: o.outDir,
    logger,
    resume: o.resume,
    ...(o.finetuneFrom !== null && !resumeFrom
      ? { finetuneFrom: { path: o.finetuneFrom, optimizer: optimizerMode(o.finetuneFrom, o.sae.finetuneOptimizer) } }
      : {}),
    onStep: (state, stats) => {
      last.loss = stats.loss;
      last.l0 = stats.l0;
      bar.update(state.tokensSeen, progressStats());
    },
  });
  const wallS = (performance.now() - t0) / 1000;
  bar.done(result.state.tokensSeen, progressStats());
  let wandbFolder: string | null = null;
  if (run) {
    run.summary({ ...final, wall_s: wallS });
    const fin = await run.finish({ exitCode: 0 });
    wandbFolder = fin.folder ?? null;
  }
  return { result, trainConfig, wallS, resumedFromStep, final, wandbFolder };
}

/** Keeps the metrics rows up to `step` (those the checkpoint includes); a torn last line goes too. */
export function dropMetricsAfter(file: string, step: number): void {
  if (!fs.existsSync(file)) return;
  const kept = fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => {
      if (line.trim() === "") return false;
      try {
        return (JSON.parse(line) as { step: number }).step <= step;
      } catch {
        return false;
      }
    });
  writeFileAtomic(file, kept.map((line) => `${line}\n`).join(""));
}

/** The W&B run of this output folder: a resumed run reopens the id kept beside its checkpoints. */
function wandbRunId(outDir: string, resuming: boolean): { id: string; resume: "allow" | "never" } {
  const file = path.join(outDir, "wandb-run.json");
  if (resuming && fs.existsSync(file)) {
    return { id: (JSON.parse(fs.readFileSync(file, "utf8")) as { id: string }).id, resume: "allow" };
  }
  const id = generateRunId();
  writeJsonAtomic(file, { id });
  return { id, resume: "never" };
}

/** A parent without optimizer state (an adopted pretrained SAE) can only be finetuned with a fresh optimizer. */
function optimizerMode(parent: string, wanted: "keep" | "reset"): "keep" | "reset" {
  return wanted === "keep" && fs.existsSync(path.join(parent, "optimizer.safetensors")) ? "keep" : "reset";
}
