import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { currentBackend, Rng } from "@difflens/tensor";
import { type LineageEntry, latestCheckpoint, rngFrom } from "../checkpoint.ts";
import { SaeError } from "../errors.ts";
import { densityHistogram, type MetricsLogger } from "../metrics-logger.ts";
import { geometricMedian } from "../train/geometric-median.ts";
import { copyParams, restoreProgress } from "../train/train-state.ts";
import { batchTopKCrosscoderStep, CrosscoderScratch } from "./batch-topk-step.ts";
import { batchTopKCrosscoderStepDevice } from "./batch-topk-step-device.ts";
import { foldedCrosscoder, loadCrosscoderCheckpoint, saveCrosscoderCheckpoint } from "./checkpoint.ts";
import { type CrosscoderTrainConfig, resolveCrosscoderTrainConfig } from "./config.ts";
import { Crosscoder } from "./crosscoder.ts";
import { CrosscoderDeviceState } from "./device-state.ts";
import { L1Scratch, l1CrosscoderStep } from "./l1-step.ts";
import { l1CrosscoderStepDevice } from "./l1-step-device.ts";
import { checkPairedBatch, type PairedActivationSource, type PairedBatch } from "./paired-source.ts";
import { type CrosscoderTrainState, initCrosscoderParams, newCrosscoderTrainState } from "./state.ts";
import type { CrosscoderStepStats } from "./step-common.ts";

export interface TrainCrosscoderOptions {
  /** A CrosscoderTrainConfig or raw input for resolveCrosscoderTrainConfig. */
  config: unknown;
  /** Paired batches; must replay identically for resume (same order from the start). */
  source: PairedActivationSource;
  /** Run folder: checkpoints/, latest.json, metrics.jsonl. */
  outDir: string;
  logger?: MetricsLogger;
  /** Continue from outDir/latest.json (exact resume). Ignored when there is no checkpoint. */
  resume?: boolean;
  /**
   * Called after every step; "stop" ends the run without a final checkpoint (tests simulate a kill). On a device
   * backend `state.params` and the Adam moments are refreshed only at checkpoints and at the end.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: callbacks that never stop return nothing at all
  onStep?: (state: CrosscoderTrainState, stats: CrosscoderStepStats) => void | "stop";
}

export interface TrainCrosscoderResult {
  crosscoder: Crosscoder;
  state: CrosscoderTrainState;
  /** The final checkpoint folder, or null when stopped early. */
  finalDir: string | null;
  lineage: LineageEntry[];
  stoppedEarly: boolean;
}

/** Trains (or resumes) a BatchTopK or L1 crosscoder on paired activations. */
export async function trainCrosscoder(opts: TrainCrosscoderOptions): Promise<TrainCrosscoderResult> {
  const cfg = resolveCrosscoderTrainConfig(opts.config);
  if (opts.source.dIn !== cfg.dIn)
    throw new SaeError(
      "D_IN_MISMATCH",
      `trainCrosscoder: paired source has dIn=${opts.source.dIn}, config dIn=${cfg.dIn}`,
      { expected: cfg.dIn, got: opts.source.dIn, field: "dIn" },
    );
  await fsp.mkdir(opts.outDir, { recursive: true });
  const iterator = opts.source[Symbol.asyncIterator]();
  const pending: PairedBatch[] = [];
  let batchIndex = 0;
  const nextBatch = async (): Promise<PairedBatch | null> => {
    const b = pending.length > 0 ? pending.shift()! : ((await iterator.next()).value ?? null);
    if (b !== null) checkBatch(b, cfg, batchIndex++);
    return b;
  };

  let state: CrosscoderTrainState;
  const lineage: LineageEntry[] = [];
  const resumeDir = opts.resume ? await latestCheckpoint(opts.outDir) : null;
  if (resumeDir) {
    const ck = await loadCrosscoderCheckpoint(resumeDir, { dIn: cfg.dIn, dSae: cfg.dSae });
    if (!ck.train)
      throw new SaeError("CHECKPOINT_CORRUPT", `${resumeDir}: no optimizer.safetensors/state.json to resume from`, {
        file: resumeDir,
      });
    const s = ck.train.state;
    state = newCrosscoderTrainState(ck.train.trainParams, cfg, rngFrom(s.rng), s.inputScale);
    restoreProgress(state, ck.train);
    state.threshold = s.threshold;
    lineage.push(...ck.block.lineage);
    for (let i = 0; i < s.batchesSeen; i++)
      if ((await nextBatch()) === null)
        throw new SaeError(
          "SOURCE_EXHAUSTED",
          `resume: the paired source ended after ${i} batches, the checkpoint had read ${s.batchesSeen}`,
        );
  } else {
    state = await initialState(cfg, iterator, pending);
  }

  // CPU backends run the host steps; a device backend (webgpu) keeps parameters and moments on the device,
  // reading them back for checkpoints and the final crosscoder.
  const btk = new CrosscoderScratch(),
    l1 = new L1Scratch();
  const dev = currentBackend().device === "cpu" ? null : CrosscoderDeviceState.upload(state, cfg);
  const step = (
    base: Float32Array,
    chat: Float32Array,
    rows: number,
  ): Promise<CrosscoderStepStats> | CrosscoderStepStats => {
    if (cfg.kind === "batchtopk")
      return dev
        ? batchTopKCrosscoderStepDevice(state, cfg, base, chat, rows, dev)
        : batchTopKCrosscoderStep(state, cfg, base, chat, rows, btk);
    return dev
      ? l1CrosscoderStepDevice(state, cfg, base, chat, rows, dev)
      : l1CrosscoderStep(state, cfg, base, chat, rows, l1);
  };
  const metricsFile = path.join(opts.outDir, "metrics.jsonl");
  let lastCheckpointStep = resumeDir ? state.step : -1;
  let stoppedEarly = false;
  try {
    for (;;) {
      if (cfg.maxSteps !== null && state.step >= cfg.maxSteps) break;
      const batch = await nextBatch();
      if (batch === null) break;
      state.batchesSeen = batchIndex;
      const stats = await step(batch.base.data as Float32Array, batch.chat.data as Float32Array, batch.base.shape[0]!);
      if (!Number.isFinite(stats.loss))
        throw new SaeError(
          "NON_FINITE_WEIGHTS",
          `trainCrosscoder: loss became ${stats.loss} at step ${state.step} (batch ${batchIndex - 1}); the last good checkpoint is kept in ${opts.outDir}`,
          { step: state.step, batch: batchIndex - 1 },
        );
      if (state.step % cfg.logEverySteps === 0) {
        const metrics = collectMetrics(state, cfg, stats);
        opts.logger?.log(metrics, state.step);
        await fsp.appendFile(metricsFile, `${JSON.stringify({ step: state.step, ...metrics })}\n`);
      }
      if (cfg.checkpointEverySteps > 0 && state.step % cfg.checkpointEverySteps === 0) {
        await dev?.download(state);
        await saveCrosscoderCheckpoint(opts.outDir, state, cfg, lineage, cfg.keepCheckpoints);
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
  const folded = foldedCrosscoder(copyParams(state.params), state.threshold, state.inputScale);
  const crosscoder = new Crosscoder(
    { dIn: cfg.dIn, dSae: cfg.dSae, kind: cfg.kind, k: cfg.k, threshold: folded.threshold, hookName: cfg.hookName },
    folded.weights,
  );
  let finalDir: string | null = null;
  if (!stoppedEarly) {
    if (lastCheckpointStep !== state.step)
      await saveCrosscoderCheckpoint(opts.outDir, state, cfg, lineage, cfg.keepCheckpoints);
    finalDir = await latestCheckpoint(opts.outDir);
  }
  return { crosscoder, state, finalDir, lineage, stoppedEarly };
}

/**
 * Fresh state from the first batches of the source (kept in `pending` and trained on afterwards): one input scale
 * for both models, bDec = geometric median of the scaled concatenated rows, decoder halves of equal norm.
 */
async function initialState(
  cfg: CrosscoderTrainConfig,
  iterator: AsyncIterator<PairedBatch>,
  pending: PairedBatch[],
): Promise<CrosscoderTrainState> {
  const d = cfg.dIn,
    w = 2 * d;
  let tokens = 0;
  while (tokens < cfg.initSampleTokens) {
    const b = (await iterator.next()).value as PairedBatch | undefined;
    if (!b) break;
    checkBatch(b, cfg, pending.length);
    pending.push(b);
    tokens += b.base.shape[0]!;
  }
  if (pending.length === 0)
    throw new SaeError("SOURCE_EXHAUSTED", "trainCrosscoder: the paired source yielded no batch");
  const rows = Math.min(tokens, cfg.initSampleTokens);
  const x = new Float32Array(rows * w);
  let r = 0;
  for (const b of pending) {
    const hb = b.base.data as Float32Array,
      hc = b.chat.data as Float32Array;
    for (let i = 0; i < b.base.shape[0]! && r < rows; i++, r++) {
      x.set(hb.subarray(i * d, (i + 1) * d), r * w);
      x.set(hc.subarray(i * d, (i + 1) * d), r * w + d);
    }
  }
  let meanSq = 0;
  for (let i = 0; i < x.length; i++) meanSq += x[i]! * x[i]!;
  meanSq /= rows;
  const scale = cfg.normalizeActivations === "unit-mean-squared-norm" ? 1 / Math.sqrt(meanSq) : 1;
  const xs = x.map((v) => v * scale);
  const bDec = geometricMedian(xs, rows, w, cfg.geometricMedianIters);
  const rng = new Rng(cfg.seed);
  return newCrosscoderTrainState(initCrosscoderParams(cfg, rng.fork("init"), bDec), cfg, rng, scale);
}

function checkBatch(b: PairedBatch, cfg: CrosscoderTrainConfig, batch: number): void {
  checkPairedBatch(b, cfg.dIn, batch);
  if (b.base.shape[0]! < 2)
    throw new SaeError(
      "SHAPE_MISMATCH",
      `paired batch ${batch}: needs at least 2 rows (FVU divides by the batch variance), got ${b.base.shape[0]}`,
      { batch },
    );
  for (const [name, t] of [
    ["base", b.base],
    ["chat", b.chat],
  ] as const) {
    const x = t.data as Float32Array;
    for (let i = 0; i < x.length; i++)
      if (!Number.isFinite(x[i]!))
        throw new SaeError(
          "NON_FINITE_ACTIVATIONS",
          `paired batch ${batch}: ${name} activations contain ${x[i]} at row ${Math.floor(i / cfg.dIn)}, column ${i % cfg.dIn}`,
          { batch, row: Math.floor(i / cfg.dIn), column: i % cfg.dIn, value: String(x[i]) },
        );
  }
}

function collectMetrics(
  state: CrosscoderTrainState,
  cfg: CrosscoderTrainConfig,
  s: CrosscoderStepStats,
): Record<string, number> {
  let dead = 0;
  for (let j = 0; j < cfg.dSae; j++) if (state.sinceFired[j]! > cfg.deadAfterTokens) dead++;
  const m: Record<string, number> = {
    loss: s.loss,
    mse: s.mse,
    fvu: s.fvu,
    fvu_base: s.fvuBase,
    fvu_chat: s.fvuChat,
    l0: s.l0,
    dead_fraction: dead / cfg.dSae,
    auxk_loss: s.auxkLoss,
    l1_loss: s.l1Loss,
    lr: s.lr,
    tokens_seen: state.tokensSeen,
    ...(s.threshold !== null ? { threshold: s.threshold / state.inputScale } : {}),
    ...densityHistogram(state.fireCounts, state.windowTokens),
  };
  state.fireCounts.fill(0);
  state.windowTokens = 0;
  return m;
}
