import {
  type AdamHyperparameters,
  adamUpdate,
  add,
  biasTopK,
  deviceZeros,
  gatherRows,
  gemm,
  mul,
  scale,
  sliceRows,
  sparseCodesBackward,
  sparseDecode,
  sum,
  type Tensor,
  toDevice,
  toHostAll,
} from "@difflens/tensor";
import type { DeviceStepOptions } from "../train/sparse-step-device.ts";
import { activationsFromSelection, selectAcrossBatch } from "./batch-topk.ts";
import { type CrosscoderTrainConfig, crosscoderKAux, crosscoderLrAt } from "./config.ts";
import { checkDevice, deviceDecoderNorms, splitResidualSums, type Temp, uploadPaired } from "./device-common.ts";
import type { CrosscoderDeviceState } from "./device-state.ts";
import type { CrosscoderTrainState } from "./state.ts";
import { type CrosscoderStepStats, f32, i32, recordSelections } from "./step-common.ts";

/**
 * The BatchTopK crosscoder step of batch-topk-step.ts (same formulas and order) on the current backend's device,
 * with the parameters and Adam moments in a CrosscoderDeviceState:
 *
 *   forward    decoder norms n, scores = (X·Wencᵀ)⊙n per block of rows, each row's candidateFactor·k best scores
 *              (biasTopK with bias n⊙bEnc) and its kAux best among the dead latents
 *   readback 1 the candidate lists [rows, width] and n [dSae] — the batch-wide selection, the threshold update and
 *              a = score / n are the CPU step's own host code on these small arrays; rows that fill their lists
 *              are gathered, rescored wider on the device and read back (one more readback per widening
 *              round); the codes go back up
 *   backward   e = X − bDec − a·Wdec, r = ê − e, sparse backward, Adam — enqueued
 *   readback 2 the per-row ‖e‖² (per model) and ‖r‖² for the losses, summed in float64 on the host
 * Nothing loops over rows·dSae on the host; the host passes are over rows·2·dIn (the upload) and rows·width.
 */
export async function batchTopKCrosscoderStepDevice(
  state: CrosscoderTrainState,
  cfg: CrosscoderTrainConfig,
  base: Float32Array,
  chat: Float32Array,
  rows: number,
  device: CrosscoderDeviceState,
  opts: DeviceStepOptions = {},
): Promise<CrosscoderStepStats> {
  const dev = device.train;
  const blockRows = opts.blockRows ?? dev.blockRows;
  checkDevice("batchTopKCrosscoderStepDevice", dev);
  const { dIn, dSae: S, k } = cfg;
  const w = 2 * dIn,
    B = rows;
  const p = dev.params;
  const temps: Tensor[] = [];
  const temp: Temp = (t) => {
    temps.push(t);
    return t;
  };
  const { x: X, variance } = uploadPaired(base, chat, B, dIn, state.inputScale, temp); // [B, 2·dIn]
  const { norms } = deviceDecoderNorms(p.wDec, dIn, S, temp); // [dSae]
  const scaledBias = temp(mul(norms, p.bEnc)); // [dSae] n⊙bEnc: biasTopK ranks n⊙(z + bEnc) = score

  const dead: number[] = [];
  for (let j = 0; j < S; j++) if (state.sinceFired[j]! > cfg.deadAfterTokens) dead.push(j);
  const kAuxCfg = crosscoderKAux(cfg);
  const kAux = Math.min(kAuxCfg, dead.length);
  const auxScale = dead.length > 0 ? Math.min(dead.length / kAuxCfg, 1) : 0;
  const candidates = kAux > 0 ? temp(toDevice(i32([dead.length], Int32Array.from(dead)))) : null;

  /**
   * Scores of xRows [n, 2·dIn]: the `width` best per row (and the kAux best dead ones), device tensors. The blocks of
   * the batch reuse the state's [n, dSae] buffers; widening (`withAux` false: any n) takes a temporary one.
   */
  const score = (xRows: Tensor, width: number, withAux: boolean) => {
    const n = xRows.shape[0]!;
    const scores = withAux ? dev.preActivations(n) : temp(deviceZeros([n, S])); // [n, dSae]
    gemm(xRows, p.wEnc, { transB: true, out: scores });
    mul(scores, norms, scores); // in place (kernels allow out to alias an input)
    const top = { values: temp(deviceZeros([n, width])), indices: temp(deviceZeros([n, width], "i32")) };
    const aux =
      withAux && candidates
        ? {
            candidates,
            k: kAux,
            values: temp(deviceZeros([n, kAux])),
            indices: temp(deviceZeros([n, kAux], "i32")),
          }
        : undefined;
    biasTopK(scores, scaledBias, width, top, aux);
    return { top, aux };
  };

  let width = Math.min(S, Math.max(k, Math.ceil(cfg.candidateFactor * k)));
  const blocks = [];
  for (let r0 = 0; r0 < B; r0 += blockRows) {
    const n = Math.min(blockRows, B - r0);
    blocks.push(score(n === B ? X : temp(sliceRows(X, r0, n)), width, true));
  }

  // Readback 1: candidates, AuxK picks and norms; the host assembles [B, width] / [B, kAux] (copies: on a CPU
  // backend the read-back arrays are the kernels' own buffers).
  const host = await toHostAll([
    norms,
    ...blocks.flatMap((b) => [b.top.indices, b.top.values, ...(b.aux ? [b.aux.indices, b.aux.values] : [])]),
  ]);
  dev.releaseDeferred(); // the previous step's temporaries: every kernel that read them has finished
  const n = host[0]!.data as Float32Array;
  let candIdx = new Int32Array(B * width),
    candVal = new Float32Array(B * width);
  const auxIdx = new Int32Array(B * kAux),
    auxVal = new Float32Array(B * kAux);
  let at = 1,
    row = 0;
  for (const b of blocks) {
    candIdx.set(host[at++]!.data as Int32Array, row * width);
    candVal.set(host[at++]!.data as Float32Array, row * width);
    if (b.aux) {
      auxIdx.set(host[at++]!.data as Int32Array, row * kAux);
      auxVal.set(host[at++]!.data as Float32Array, row * kAux);
    }
    row += b.top.values.shape[0]!;
  }

  // Batch-wide selection; rows that filled their candidate lists are rescored wider until none does.
  const m = B * k;
  let sel = selectAcrossBatch(candVal, B, width, m, S);
  while (sel.saturated.length > 0) {
    const wider = Math.min(S, width * 2);
    const idx2 = new Int32Array(B * wider),
      val2 = new Float32Array(B * wider).fill(Number.NEGATIVE_INFINITY);
    for (let r = 0; r < B; r++) {
      idx2.set(candIdx.subarray(r * width, (r + 1) * width), r * wider);
      val2.set(candVal.subarray(r * width, (r + 1) * width), r * wider);
    }
    // The saturated rows gathered into one block (at most blockRows at a time), rescored, read back together.
    const again: { rows: number[]; top: ReturnType<typeof score>["top"] }[] = [];
    for (let i = 0; i < sel.saturated.length; i += blockRows) {
      const rowIds = sel.saturated.slice(i, i + blockRows);
      const ids = temp(toDevice(i32([rowIds.length], Int32Array.from(rowIds))));
      again.push({ rows: rowIds, top: score(temp(gatherRows(X, ids)), wider, false).top });
    }
    const back = await toHostAll(again.flatMap((a) => [a.top.indices, a.top.values]));
    for (const [b, a] of again.entries()) {
      const idx = back[2 * b]!.data as Int32Array,
        val = back[2 * b + 1]!.data as Float32Array;
      for (const [i, r] of a.rows.entries()) {
        idx2.set(idx.subarray(i * wider, (i + 1) * wider), r * wider);
        val2.set(val.subarray(i * wider, (i + 1) * wider), r * wider);
      }
    }
    width = wider;
    candIdx = idx2;
    candVal = val2;
    sel = selectAcrossBatch(candVal, B, width, m, S);
  }

  activationsFromSelection(candIdx, candVal, sel.counts, width, n);
  for (let c = 0; c < B * kAux; c++) {
    const v = auxVal[c]!,
      j = auxIdx[c]!;
    auxVal[c] = v > 0 && n[j]! > 0 ? Math.fround(v / n[j]!) : 0;
  }
  const up = <T extends Tensor>(t: T): T => {
    const d = toDevice(t) as T;
    return d === t ? t : temp(d);
  };
  const topIdx = up(i32([B, width], candIdx)),
    topVal = up(f32([B, width], candVal));
  const auxIdxT = up(i32([B, kAux], auxIdx)),
    auxValT = up(f32([B, kAux], auxVal));

  // Decode and residuals; dL/dX̂ = −2e/TV, dL/dê = 2·coef·s·r/TV (TV from the host).
  const e = temp(add(X, temp(scale(p.bDec, -1)))); // [B, 2·dIn]
  sparseDecode(e, topIdx, topVal, p.wDec, -1);
  const e2 = temp(sum(temp(mul(e, e)).reshape([2 * B, dIn]), 1)); // [2B]: per row, base then chat
  let r: Tensor | null = null,
    r2: Tensor | null = null;
  if (kAux > 0) {
    r = temp(scale(e, -1));
    sparseDecode(r, auxIdxT, auxValT, p.wDec, 1);
    r2 = temp(sum(temp(mul(r, r)), 1)); // [B]
  }
  const gX = temp(scale(e, -2 / variance.total));
  const grads = { table: dev.grads.wDec, encoder: dev.grads.wEnc, bias: dev.grads.bEnc, touched: dev.touched };
  sparseCodesBackward(topIdx, topVal, gX, X, p.wDec, grads);
  if (r) {
    const gR = (2 * cfg.auxkCoef * auxScale) / variance.total;
    sparseCodesBackward(auxIdxT, auxValT, temp(scale(r, gR)), X, p.wDec, grads);
  }
  const gBDec = temp(sum(gX, 0)); // [2·dIn]: X̂ = a·Wdec + bDec

  if (sel.selected > 0) {
    const d = cfg.thresholdDecay;
    state.threshold = state.threshold === null ? sel.minSelected : d * state.threshold + (1 - d) * sel.minSelected;
  }
  const lr = deviceAdam(state, cfg, dev, gBDec);

  // Readback 2: the losses.
  const sums = await toHostAll([e2, ...(r2 ? [r2] : [])]);
  const split = splitResidualSums(sums[0]!.data as Float32Array);
  let sumR2 = 0;
  if (r2) for (const v of sums[1]!.data as Float32Array) sumR2 += v;
  recordSelections(state, B, candIdx, candVal, B * width);
  dev.releaseLater(temps);
  const sumE2 = split.base + split.chat;
  const fvu = sumE2 / variance.total;
  const auxkLoss = kAux > 0 ? (auxScale * sumR2) / variance.total : 0;
  return {
    loss: fvu + cfg.auxkCoef * auxkLoss,
    fvu,
    fvuBase: split.base / variance.base,
    fvuChat: split.chat / variance.chat,
    mse: sumE2 / (B * w),
    l1Loss: 0,
    auxkLoss,
    l0: sel.selected / B,
    numDead: dead.length,
    threshold: state.threshold,
    lr,
  };
}

/**
 * applyCrosscoderUpdate on the device: dense Adam on all four parameters, no row masks (rows without a gradient
 * hold zeros, which updates them exactly as the masked CPU update does); clears the gradients. Returns the lr.
 */
export function deviceAdam(
  state: CrosscoderTrainState,
  cfg: CrosscoderTrainConfig,
  dev: CrosscoderDeviceState["train"],
  gBDec: Tensor,
): number {
  const { params: p, adamM: m, adamV: v, grads: g } = dev;
  const t = state.adamT + 1;
  const lr = crosscoderLrAt(cfg, state.step + 1);
  const h: AdamHyperparameters = { lr, beta1: cfg.adamBeta1, beta2: cfg.adamBeta2, eps: cfg.adamEps, t };
  adamUpdate(p.wEnc, g.wEnc, m.wEnc, v.wEnc, h, { clearGrad: true });
  adamUpdate(p.wDec, g.wDec, m.wDec, v.wDec, h, { clearGrad: true });
  adamUpdate(p.bEnc, g.bEnc, m.bEnc, v.bEnc, h, { clearGrad: true });
  adamUpdate(p.bDec, gBDec, m.bDec, v.bDec, h);
  state.adamT = t;
  state.step += 1;
  return lr;
}
