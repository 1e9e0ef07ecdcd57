import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { type ActivationSource, currentBackend, Rng, type Tensor, toHost } from "@difflens/tensor";
import {
  foldedWeights,
  type LineageEntry,
  latestCheckpoint,
  loadCheckpoint,
  rngFrom,
  saveTrainCheckpoint,
  unfoldedWeights,
} from "../checkpoint.ts";
import { SaeError } from "../errors.ts";
import { densityHistogram, type MetricsLogger } from "../metrics-logger.ts";
import { Sae } from "../sae.ts";
import { type SpliceModel, spliceMetrics } from "../splice.ts";
import { resolveSaeTrainConfig, type SaeTrainConfig } from "./config.ts";
import { DeviceTrainState } from "./device-train-state.ts";
import { geometricMedian } from "./geometric-median.ts";
import { StepScratch, type StepStats, trainStep } from "./sparse-step.ts";
import { trainStepDevice } from "./sparse-step-device.ts";
import { copyParams, initParams, newTrainState, restoreProgress, type TrainState } from "./train-state.ts";

export interface TrainSaeOptions {
  /** A SaeTrainConfig or raw input for resolveSaeTrainConfig. */
  config: unknown;
  /** Batches of activations [batch, dIn]; must replay identically for resume (same order from the start). */
  source: ActivationSource;
  /** Run folder: checkpoints/, latest.json, metrics.jsonl, final/ (the SAE to use). */
  outDir: string;
  logger?: MetricsLogger;
  /** Finetune: start from this checkpoint folder (ours), keeping or resetting its Adam state. */
  finetuneFrom?: { path: string; optimizer: "keep" | "reset" };
  /** Continue this run from outDir/latest.json (exact resume). Ignored when there is no checkpoint. */
  resume?: boolean;
  /** CE/KL with the SAE spliced in, computed at each log step that is a multiple of everySteps. */
  splice?: { model: SpliceModel; sequences: Int32Array[]; everySteps: number };
  /**
   * Called after every step; returning "stop" ends the run without a final checkpoint (tests simulate a kill).
   * On a device backend `state.params` and the Adam moments are refreshed only at checkpoints and at the end.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: callbacks that never stop return nothing at all
  onStep?: (state: TrainState, stats: StepStats) => void | "stop";
}

export interface TrainSaeResult {
  sae: Sae;
  state: TrainState;
  /** Folder of the final SAE (cfg.json + sae.safetensors + optimizer/state), or null when stopped early. */
  finalDir: string | null;
  lineage: LineageEntry[];
  stoppedEarly: boolean;
}

/** Trains (or finetunes, or resumes) a TopK SAE on an activation source. */
export async function trainSae(opts: TrainSaeOptions): Promise<TrainSaeResult> {
  const cfg = resolveSaeTrainConfig(opts.config);
  if (opts.source.dIn !== cfg.dIn) {
    throw new SaeError(
      "D_IN_MISMATCH",
      `trainSae: activation source has dIn=${opts.source.dIn}, config dIn=${cfg.dIn}`,
      { expected: cfg.dIn, got: opts.source.dIn, field: "dIn" },
    );
  }
  await fsp.mkdir(opts.outDir, { recursive: true });
  const iterator = opts.source[Symbol.asyncIterator]();
  const pending: Tensor[] = [];
  let batchIndex = 0;
  const nextBatch = async (): Promise<Tensor | null> => {
    const t = pending.length > 0 ? pending.shift()! : (((await iterator.next()).value as Tensor | undefined) ?? null);
    if (t !== null) batchIndex++;
    return t;
  };

  let state: TrainState;
  let lineage: LineageEntry[] = [];
  const resumeDir = opts.resume ? await latestCheckpoint(opts.outDir) : null;
  if (resumeDir) {
    const ck = await loadCheckpoint(resumeDir, { dIn: cfg.dIn, dSae: cfg.dSae });
    if (!ck.train)
      throw new SaeError("CHECKPOINT_CORRUPT", `${resumeDir}: no optimizer.safetensors/state.json to resume from`, {
        file: resumeDir,
      });
    const s = ck.train.state;
    state = newTrainState(ck.train.trainParams, cfg, rngFrom(s.rng), s.inputScale);
    restoreProgress(state, ck.train);
    lineage = ck.block.lineage;
    for (let i = 0; i < s.batchesSeen; i++) {
      if ((await nextBatch()) === null)
        throw new SaeError(
          "SOURCE_EXHAUSTED",
          `resume: the source ended after ${i} batches, the checkpoint had read ${s.batchesSeen}`,
        );
    }
  } else {
    const rng = new Rng(cfg.seed);
    // The init sample: the first batches of the source (kept and trained on afterwards).
    const sample: Tensor[] = [];
    let tokens = 0;
    while (tokens < cfg.initSampleTokens) {
      const next = (await iterator.next()).value as Tensor | undefined;
      if (!next) break;
      const t = await toHost(next);
      checkBatch(t, cfg, 1, sample.length);
      sample.push(t);
      tokens += t.shape[0]!;
    }
    if (sample.length === 0) throw new SaeError("SOURCE_EXHAUSTED", "trainSae: the activation source yielded no batch");
    pending.push(...sample);
    const rows = Math.min(tokens, cfg.initSampleTokens);
    const x = new Float32Array(rows * cfg.dIn);
    let off = 0;
    for (const t of sample) {
      const n = Math.min(t.size, x.length - off);
      x.set((t.data as Float32Array).subarray(0, n), off);
      off += n;
    }
    let meanSq = 0;
    for (let i = 0; i < x.length; i++) meanSq += x[i]! * x[i]!;
    meanSq /= rows;
    const scale = cfg.normalizeActivations === "unit-mean-squared-norm" ? 1 / Math.sqrt(meanSq) : 1;
    if (opts.finetuneFrom) {
      const parent = await loadCheckpoint(opts.finetuneFrom.path, { dIn: cfg.dIn, dSae: cfg.dSae });
      const keep = opts.finetuneFrom.optimizer === "keep";
      if (keep && !parent.train)
        throw new SaeError(
          "CHECKPOINT_MISSING",
          `${opts.finetuneFrom.path}: optimizer "keep" needs optimizer.safetensors and state.json`,
          { file: opts.finetuneFrom.path },
        );
      const sameScale = keep && parent.train && parent.train.state.inputScale === scale;
      const params = sameScale
        ? { ...parent.train!.trainParams, wEnc: parent.weights.wEnc, wDec: parent.weights.wDec }
        : unfoldedWeights(parent.weights, scale);
      state = newTrainState(params, cfg, rng, scale);
      if (keep) {
        state.adamM = parent.train!.adamM;
        state.adamV = parent.train!.adamV;
        state.adamT = parent.train!.state.adamT;
        state.sinceFired.set(parent.train!.state.sinceFired);
      }
      lineage = [
        {
          path: opts.finetuneFrom.path,
          sha256: parent.sha256,
          step: parent.block.step,
          tokensSeen: parent.block.tokensSeen,
        },
        ...parent.block.lineage,
      ];
    } else {
      const xs = x.map((v) => v * scale);
      const bDec = geometricMedian(xs, rows, cfg.dIn, cfg.geometricMedianIters);
      state = newTrainState(initParams(cfg.dIn, cfg.dSae, rng.fork("init"), bDec), cfg, rng, scale);
    }
  }

  // CPU backends run the fused host step; a device backend (webgpu) keeps parameters and moments on the device,
  // reading them back for checkpoints, splice metrics and the final SAE.
  const sc = new StepScratch();
  const dev = currentBackend().device === "cpu" ? null : DeviceTrainState.upload(state, cfg);
  const metricsFile = path.join(opts.outDir, "metrics.jsonl");
  let lastCheckpointStep = resumeDir ? state.step : -1;
  let stoppedEarly = false;
  try {
    for (;;) {
      if (cfg.maxSteps !== null && state.step >= cfg.maxSteps) break;
      const batch = await nextBatch();
      if (batch === null) break;
      checkBatch(batch, cfg, state.step + 1, batchIndex - 1);
      state.batchesSeen = batchIndex;
      const stats = dev
        ? await trainStepDevice(state, cfg, batch, dev)
        : trainStep(state, cfg, batch.data as Float32Array, batch.shape[0]!, sc);
      if (!Number.isFinite(stats.loss)) {
        throw new SaeError(
          "NON_FINITE_WEIGHTS",
          `trainSae: loss became ${stats.loss} at step ${state.step} (batch ${batchIndex - 1}); the last good checkpoint is kept in ${opts.outDir}`,
          { step: state.step, batch: batchIndex - 1 },
        );
      }
      if (state.step % cfg.logEverySteps === 0) {
        if (dev && opts.splice && state.step % opts.splice.everySteps === 0) await dev.download(state);
        const metrics = await collectMetrics(state, cfg, stats, opts);
        opts.logger?.log(metrics, state.step);
        await fsp.appendFile(metricsFile, `${JSON.stringify({ step: state.step, ...metrics })}\n`);
      }
      if (cfg.checkpointEverySteps > 0 && state.step % cfg.checkpointEverySteps === 0) {
        await dev?.download(state);
        await saveTrainCheckpoint(opts.outDir, state, cfg, lineage, cfg.keepCheckpoints);
        lastCheckpointStep = state.step;
      }
      if (opts.onStep?.(state, stats) === "stop") {
        stoppedEarly = true;
        break;
      }
    }
    await dev?.download(state);
  } finally {
    dev?.dispose();
  }
  const sae = new Sae(
    { dIn: cfg.dIn, dSae: cfg.dSae, activation: { kind: "topk", k: cfg.k }, hookName: cfg.hookName },
    foldedWeights(copyParams(state.params), state.inputScale),
  );
  let finalDir: string | null = null;
  if (!stoppedEarly) {
    if (lastCheckpointStep !== state.step)
      await saveTrainCheckpoint(opts.outDir, state, cfg, lineage, cfg.keepCheckpoints);
    finalDir = await latestCheckpoint(opts.outDir);
  }
  return { sae, state, finalDir, lineage, stoppedEarly };
}

/** Shape, dtype and finiteness of one batch; names the step and batch on failure. */
function checkBatch(t: Tensor, cfg: SaeTrainConfig, step: number, batch: number): void {
  if (t.dtype !== "f32" || t.shape.length !== 2 || t.shape[1] !== cfg.dIn) {
    throw new SaeError(
      "D_IN_MISMATCH",
      `batch ${batch} (step ${step}): expected f32 [batch, ${cfg.dIn}], got ${t.dtype} [${t.shape.join(", ")}]`,
      { step, batch, expected: [null, cfg.dIn], got: t.shape },
    );
  }
  if (t.shape[0]! < 2)
    throw new SaeError(
      "SHAPE_MISMATCH",
      `batch ${batch} (step ${step}): needs at least 2 rows (FVU divides by the batch variance), got ${t.shape[0]}`,
      { step, batch },
    );
  // A batch already on a device is not scanned here (that would read it back): a non-finite value there shows up
  // as a non-finite loss, which stops training too.
  if (t.device !== "cpu") return;
  const x = t.data as Float32Array;
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]!)) {
      const row = Math.floor(i / cfg.dIn),
        col = i % cfg.dIn;
      throw new SaeError(
        "NON_FINITE_ACTIVATIONS",
        `activations contain ${x[i]} at step ${step}, batch ${batch}, row ${row}, column ${col}; training stopped, the last good checkpoint is kept`,
        { step, batch, row, column: col, value: String(x[i]) },
      );
    }
  }
}

async function collectMetrics(
  state: TrainState,
  cfg: SaeTrainConfig,
  s: StepStats,
  opts: TrainSaeOptions,
): Promise<Record<string, number>> {
  let dead = 0;
  for (let j = 0; j < cfg.dSae; j++) if (state.sinceFired[j]! > cfg.deadAfterTokens) dead++;
  const m: Record<string, number> = {
    loss: s.loss,
    mse: s.mse,
    fvu: s.fvu,
    explained_variance: s.explainedVariance,
    l0: s.l0,
    dead_fraction: dead / cfg.dSae,
    auxk_loss: s.auxkLoss,
    lr: s.lr,
    tokens_seen: state.tokensSeen,
    ...densityHistogram(state.fireCounts, state.windowTokens),
  };
  state.fireCounts.fill(0);
  state.windowTokens = 0;
  if (opts.splice && state.step % opts.splice.everySteps === 0) {
    const sae = new Sae(
      { dIn: cfg.dIn, dSae: cfg.dSae, activation: { kind: "topk", k: cfg.k }, hookName: cfg.hookName },
      foldedWeights(state.params, state.inputScale),
    );
    const sm = await spliceMetrics(opts.splice.model, sae, opts.splice.sequences);
    Object.assign(m, {
      ce_clean: sm.ceClean,
      ce_spliced: sm.ceSpliced,
      ce_zero_ablated: sm.ceZeroAblated,
      ce_recovered: sm.ceRecovered,
      kl_spliced: sm.klSpliced,
    });
  }
  return m;
}
