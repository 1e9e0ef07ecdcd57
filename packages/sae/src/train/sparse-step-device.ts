import {
  type AdamHyperparameters,
  adamUpdate,
  add,
  biasTopK,
  copy,
  deviceZeros,
  gemm,
  mean,
  mul,
  normalizeRows,
  projectOutRows,
  scale,
  sliceRows,
  sparseCodesBackward,
  sparseDecode,
  sum,
  Tensor,
  type TopKAmong,
  type TopKOutput,
  toDevice,
  toHostAll,
} from "@difflens/tensor";
import { effectiveKAux, lrAt, type SaeTrainConfig } from "./config.ts";
import type { DeviceTrainState } from "./device-train-state.ts";
import { F32_EPS, recordFiringOf, type StepStats } from "./sparse-step.ts";
import type { TrainState } from "./train-state.ts";

/**
 * The TopK SAE step of sparse-step.ts (same formula, same order of operations) written only with public
 * @difflens/tensor kernels, so it runs wherever the tensors live — on a GPU through the webgpu backend, and on
 * the CPU backends too (where the fused host step `trainStep` is faster and stays the trainer's choice).
 *
 * The step is two halves around its one readback:
 *   forward   x·scale, batch variance, xc = x − bDec; per block of rows: z = xc·Wencᵀ (GEMM), top-k of z + bEnc
 *             (and top-kAux among the latents dead at the step start), e = xc − a·Wdec, r = ê − e
 *   readback  (one toHostAll) the per-token variances, ‖e‖², ‖r‖² and the [rows, k] codes: the losses are summed
 *             on the host in float64, and firing statistics stay on the host as in the CPU step
 *   backward  dL/dx̂ = −2e/TV, dL/dê = 2·coef·s·r/TV (TV now a host number), sparse backward, the bDec term
 *   update    decoder-gradient projection, Adam, decoder renormalisation — enqueued, not awaited: the next
 *             step's readback waits for them.
 * Nothing here loops over batch·dIn on the host.
 */
export interface DeviceStepOptions {
  /** Rows per encoder block (default: DeviceTrainState.blockRows). Tests use small blocks to check the blocking. */
  blockRows?: number;
}

/** One block of rows through the encoder and decoder (device tensors; `host*` filled by the readback). */
interface Block {
  rows: number;
  /** [rows, dIn] x − bDec. */
  xc: Tensor;
  top: TopKOutput;
  aux: TopKAmong | undefined;
  /** [rows, dIn] residual x − x̂, then the gradient dL/dx̂. */
  e: Tensor;
  /** [rows, dIn] AuxK residual ê − e (null without dead latents). */
  r: Tensor | null;
  /** [rows] ‖e‖² and ‖r‖² per token. */
  e2: Tensor;
  r2: Tensor | null;
}

/**
 * Runs one step on x [rows, dIn] (raw activations, host or device) with the parameters and moments in `dev`;
 * updates `dev` and state's counters and firing statistics (state.params / adamM / adamV are refreshed only by
 * `dev.download(state)`).
 */
export async function trainStepDevice(
  state: TrainState,
  cfg: SaeTrainConfig,
  x: Tensor,
  dev: DeviceTrainState,
  opts: DeviceStepOptions = {},
): Promise<StepStats> {
  const { dIn: d, dSae: S, k } = cfg;
  const B = x.shape[0]!;
  const p = dev.params;
  const temps: Tensor[] = [];
  const temp = <T extends Tensor>(t: T): T => {
    temps.push(t);
    return t;
  };

  // Inputs in training space, per-token variance around the batch mean, and the encoder input x − bDec.
  const xd = toDevice(x);
  if (xd !== x) temps.push(xd);
  const xs = temp(scale(xd, state.inputScale)); // [B, d]
  const centred = temp(add(xs, temp(scale(temp(mean(xs, 0)), -1)))); // [B, d]
  const tokVar = temp(sum(temp(mul(centred, centred)), 1)); // [B]
  const xc = temp(add(xs, temp(scale(p.bDec, -1)))); // [B, d]

  // Dead latents as of the start of the step (sparsify's order).
  const dead: number[] = [];
  for (let j = 0; j < S; j++) if (state.sinceFired[j]! > cfg.deadAfterTokens) dead.push(j);
  const kAuxCfg = effectiveKAux(cfg);
  const kAux = Math.min(kAuxCfg, dead.length);
  const auxScale = dead.length > 0 ? Math.min(dead.length / kAuxCfg, 1) : 0;
  const candidates = kAux > 0 ? temp(toDevice(new Tensor("i32", [dead.length], Int32Array.from(dead)))) : null;

  const blockRows = opts.blockRows ?? dev.blockRows;
  const blocks: Block[] = [];
  for (let r0 = 0; r0 < B; r0 += blockRows) {
    const n = Math.min(blockRows, B - r0);
    blocks.push(
      encodeDecode(p, n === B ? xc : temp(sliceRows(xc, r0, n)), dev.preActivations(n), k, candidates, kAux, temp),
    );
  }

  // The step's one readback.
  const perBlock = blocks.map((b) => [b.top.indices, b.top.values, b.e2, ...(b.r2 ? [b.r2] : [])]);
  const host = await toHostAll([tokVar, ...perBlock.flat()]);
  dev.releaseDeferred(); // the previous step's temporaries: every kernel that read them has finished
  const tokVarH = host[0]!.data as Float32Array;
  let totalVar = 0;
  for (let b = 0; b < B; b++) totalVar += tokVarH[b]!;
  let at = 1,
    row = 0,
    sumE2 = 0,
    sumR2 = 0,
    evSum = 0,
    active = 0;
  const codes: { indices: Int32Array; values: Float32Array }[] = [];
  for (const b of blocks) {
    const indices = host[at++]!.data as Int32Array,
      values = host[at++]!.data as Float32Array;
    const e2 = host[at++]!.data as Float32Array;
    const r2 = b.r2 ? (host[at++]!.data as Float32Array) : null;
    codes.push({ indices, values });
    for (let c = 0; c < values.length; c++) if (values[c]! > 0) active++;
    for (let i = 0; i < b.rows; i++, row++) {
      const s = e2[i]!;
      sumE2 += s;
      evSum += tokVarH[row]! > 0 ? 1 - s / tokVarH[row]! : 0;
      if (r2) sumR2 += r2[i]!;
    }
  }
  const fvu = sumE2 / totalVar;
  const auxkLoss = kAux > 0 ? (auxScale * sumR2) / totalVar : 0;

  const gBDec = backward(dev, blocks, -2 / totalVar, (2 * cfg.auxkCoef * auxScale) / totalVar, cfg, temp);
  const lr = update(state, cfg, dev, gBDec);
  recordFiringOf(state, B, codes);
  dev.releaseLater(temps);
  return {
    loss: fvu + cfg.auxkCoef * auxkLoss,
    fvu,
    mse: sumE2 / (B * d),
    explainedVariance: evSum / B,
    auxkLoss,
    l0: active / B,
    numDead: dead.length,
    lr,
  };
}

/** z = xc·Wencᵀ into `z`, top-k (+ AuxK among candidates), e = xc − a·Wdec, r = ê − e, and their row norms². */
function encodeDecode(
  p: DeviceTrainState["params"],
  xc: Tensor,
  z: Tensor,
  k: number,
  candidates: Tensor | null,
  kAux: number,
  temp: <T extends Tensor>(t: T) => T,
): Block {
  const rows = xc.shape[0]!;
  gemm(xc, p.wEnc, { transB: true, out: z }); // [rows, dSae]
  const top = { values: temp(deviceZeros([rows, k])), indices: temp(deviceZeros([rows, k], "i32")) };
  const aux =
    candidates && kAux > 0
      ? {
          candidates,
          k: kAux,
          values: temp(deviceZeros([rows, kAux])),
          indices: temp(deviceZeros([rows, kAux], "i32")),
        }
      : undefined;
  biasTopK(z, p.bEnc, k, top, aux);
  const rowNorm2 = (t: Tensor): Tensor => temp(sum(temp(mul(t, t)), 1));
  const e = temp(copy(xc));
  sparseDecode(e, top.indices, top.values, p.wDec, -1);
  let r: Tensor | null = null;
  if (aux) {
    // AuxK: the dead latents predict the residual (no bias): r = ê − e.
    r = temp(scale(e, -1));
    sparseDecode(r, aux.indices, aux.values, p.wDec, 1);
  }
  return { rows, xc, top, aux, e, r, e2: rowNorm2(e), r2: r ? rowNorm2(r) : null };
}

/**
 * Leaves dL/dparams in dev.grads and returns dL/dbDec [dIn]. Same order as the CPU step: all top-k pairs in row
 * order, then all AuxK pairs, then the bDec term through the encoder input (x − bDec).
 */
function backward(
  dev: DeviceTrainState,
  blocks: Block[],
  gE: number,
  gR: number,
  cfg: SaeTrainConfig,
  temp: <T extends Tensor>(t: T) => T,
): Tensor {
  const p = dev.params;
  const grads = { table: dev.grads.wDec, encoder: dev.grads.wEnc, bias: dev.grads.bEnc, touched: dev.touched };
  const gX = blocks.map((b) => temp(scale(b.e, gE))); // dL/dx̂ per block
  for (const [i, b] of blocks.entries()) sparseCodesBackward(b.top.indices, b.top.values, gX[i]!, b.xc, p.wDec, grads);
  for (const b of blocks) {
    if (b.aux && b.r) sparseCodesBackward(b.aux.indices, b.aux.values, temp(scale(b.r, gR)), b.xc, p.wDec, grads);
  }
  // dL/dbDec: Σ dL/dx̂ over tokens (x̂ = a·Wdec + bDec), and through the encoder input (x − bDec): −Σⱼ dL/dbEncⱼ·Wencⱼ.
  let gBDec = temp(sum(gX[0]!, 0)); // [dIn]
  for (const g of gX.slice(1)) gBDec = temp(add(gBDec, temp(sum(g, 0))));
  gemm(dev.grads.bEnc.reshape([1, cfg.dSae]), p.wEnc, { alpha: -1, beta: 1, out: gBDec.reshape([1, cfg.dIn]) });
  return gBDec;
}

/** Decoder-gradient projection, Adam, decoder renormalisation (as applyUpdate); clears the gradients. Returns the lr. */
function update(state: TrainState, cfg: SaeTrainConfig, dev: DeviceTrainState, gBDec: Tensor): number {
  const { params: p, adamM: m, adamV: v, grads: g } = dev;
  const t = state.adamT + 1;
  const lr = lrAt(cfg, state.step + 1);
  const h: AdamHyperparameters = { lr, beta1: cfg.adamBeta1, beta2: cfg.adamBeta2, eps: cfg.adamEps, t };
  // Dense Adam as torch; no row masks: rows without a gradient hold zeros, which updates them identically.
  adamUpdate(p.wEnc, g.wEnc, m.wEnc, v.wEnc, h, { clearGrad: true });
  projectOutRows(g.wDec, p.wDec);
  adamUpdate(p.wDec, g.wDec, m.wDec, v.wDec, h, { clearGrad: true });
  normalizeRows(p.wDec, F32_EPS);
  adamUpdate(p.bEnc, g.bEnc, m.bEnc, v.bEnc, h, { clearGrad: true });
  adamUpdate(p.bDec, gBDec, m.bDec, v.bDec, h);
  state.adamT = t;
  state.step += 1;
  return lr;
}
