import {
  add,
  deviceZeros,
  gemm,
  mul,
  scale,
  sliceRows,
  sparseCodesBackward,
  sparseDecode,
  sum,
  type Tensor,
  toHostAll,
} from "@difflens/tensor";
import type { DeviceStepOptions } from "../train/sparse-step-device.ts";
import { deviceAdam } from "./batch-topk-step-device.ts";
import type { CrosscoderTrainConfig } from "./config.ts";
import { checkDevice, deviceDecoderNorms, splitResidualSums, type Temp, uploadPaired } from "./device-common.ts";
import type { CrosscoderDeviceState } from "./device-state.ts";
import type { CrosscoderTrainState } from "./state.ts";
import type { CrosscoderStepStats } from "./step-common.ts";
import { f32, i32 } from "./step-common.ts";

/**
 * The L1 crosscoder step of l1-step.ts on the current backend's device. The tensor kernels have no ReLU or
 * step function, so the dense step is written with the sparse kernels, which treat a code ≤ 0 as inactive: with
 * every latent listed in each row (indices [rows, dSae] = 0..dSae−1), c = X·Wencᵀ + bEnc read as codes is a = ReLU(c).
 *
 *   e = X − bDec − a·Wdec                 sparseDecode
 *   reconstruction gradients              sparseCodesBackward(c, g = −2e/B) into the parameter gradients
 *   counts, Σ_active X, Σ a per latent    sparseCodesBackward(c, g = e₀ rows, table = e₀ columns) into scratch:
 *                                         dz = 1 per active pair, so bias = count_j, encoder = Σ_{a_rj>0} X_r, and
 *                                         table column 0 = Σ_r a_rj
 *   penalty λ/B·Σ a_rj·n_j                 dL/dbEnc_j += λ/B·n_j·count_j, dL/dWenc_j += λ/B·n_j·Σ_active X_r,
 *                                         dL/dd_j^m += λ/B·Σ_r a_rj · d_j^m/‖d_j^m‖   (row scalings: sparseDecode
 *                                         with one index per row)
 * then Adam; one readback for the losses and firing statistics. The CPU step uses dense GEMMs instead; the sums
 * here run in other orders (results agree to float32 rounding).
 */
export async function l1CrosscoderStepDevice(
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
  checkDevice("l1CrosscoderStepDevice", dev);
  const { dIn, dSae: S } = cfg;
  const w = 2 * dIn,
    B = rows;
  const p = dev.params;
  const temps: Tensor[] = [];
  const temp: Temp = (t) => {
    temps.push(t);
    return t;
  };
  const { x: X, variance } = uploadPaired(base, chat, B, dIn, state.inputScale, temp); // [B, 2·dIn]
  const { norms, unit } = deviceDecoderNorms(p.wDec, dIn, S, temp); // [dSae], [2·dSae, dIn]
  const penalty = cfg.l1Coef / B;
  const grads = { table: dev.grads.wDec, encoder: dev.grads.wEnc, bias: dev.grads.bEnc, touched: dev.touched };
  // Per latent: active count, Σ over active rows of X, and (table column 0) Σ a.
  const counts = {
    table: temp(deviceZeros([S, w])),
    encoder: temp(deviceZeros([S, w])),
    bias: temp(deviceZeros([S])),
    touched: new Uint8Array(S),
  };
  const selectorTable = device.constant(`l1/column0/${S}x${w}`, () => unitColumn(S, w, 0)); // [dSae, 2·dIn]

  const e2s: Tensor[] = [];
  let gBDec: Tensor | null = null;
  for (let r0 = 0; r0 < B; r0 += blockRows) {
    const n = Math.min(blockRows, B - r0);
    const xRows = n === B ? X : temp(sliceRows(X, r0, n)); // [n, 2·dIn]
    const all = device.constant(`l1/all/${n}x${S}`, () => allLatents(n, S)); // [n, dSae] i32
    const z = dev.preActivations(n);
    gemm(xRows, p.wEnc, { transB: true, out: z });
    const c = temp(add(z, p.bEnc)); // [n, dSae] pre-ReLU codes
    const e = temp(add(xRows, temp(scale(p.bDec, -1))));
    sparseDecode(e, all, c, p.wDec, -1);
    e2s.push(temp(sum(temp(mul(e, e)).reshape([2 * n, dIn]), 1))); // [2n]
    const gX = temp(scale(e, -2 / B));
    sparseCodesBackward(all, c, gX, xRows, p.wDec, grads);
    const firstColumn = device.constant(`l1/e0/${n}x${w}`, () => unitColumn(n, w, 0)); // [n, 2·dIn]
    sparseCodesBackward(all, c, firstColumn, xRows, selectorTable, counts);
    const g = temp(sum(gX, 0));
    gBDec = gBDec ? temp(add(gBDec, g)) : g;
  }

  // The penalty. dL/dbEnc += λ/B·n⊙count (a GEMM with beta 1 accumulates).
  const pn = temp(scale(norms, penalty)); // [dSae]
  const one = device.constant("l1/one", () => f32([1, 1], Float32Array.of(1)));
  gemm(one, temp(mul(pn, counts.bias)).reshape([1, S]), { beta: 1, out: dev.grads.bEnc.reshape([1, S]) });
  const latentIds = device.constant(`l1/ids/${S}`, () => allLatents(1, S).reshape([S, 1])); // row j → j
  sparseDecode(dev.grads.wEnc, latentIds, pn.reshape([S, 1]), counts.encoder, 1);
  // Σ_r a_rj for both halves of latent j: column 0 of counts.table, twice.
  const twice = device.constant(`l1/twice/${w}`, () => unitRow(w, 2)); // [2·dIn, 2]
  const aSums = temp(gemm(counts.table, twice)); // [dSae, 2] = [2·dSae, 1]
  const halfIds = device.constant(`l1/ids/${2 * S}`, () => allLatents(1, 2 * S).reshape([2 * S, 1]));
  const halfScale = temp(scale(aSums, penalty)).reshape([2 * S, 1]);
  sparseDecode(dev.grads.wDec.reshape([2 * S, dIn]), halfIds, halfScale, unit, 1);
  const lr = deviceAdam(state, cfg, dev, gBDec!);

  const host = await toHostAll([norms, counts.bias, aSums, ...e2s]);
  dev.releaseDeferred(); // kernels enqueued before this readback (the previous step's included) have finished
  const n = host[0]!.data as Float32Array,
    fired = host[1]!.data as Float32Array,
    colSums = host[2]!.data as Float32Array; // Σ_r a_rj, twice per latent
  let sumBase = 0,
    sumChat = 0;
  for (const h of host.slice(3)) {
    const s = splitResidualSums(h.data as Float32Array);
    sumBase += s.base;
    sumChat += s.chat;
  }
  let l1Sum = 0,
    active = 0;
  for (let j = 0; j < S; j++) {
    l1Sum += colSums[2 * j]! * n[j]!;
    active += fired[j]!;
    state.sinceFired[j] = fired[j]! > 0 ? 0 : state.sinceFired[j]! + B;
    state.fireCounts[j]! += fired[j]!;
  }
  state.tokensSeen += B;
  state.windowTokens += B;
  dev.releaseLater(temps);
  const sumE2 = sumBase + sumChat,
    lam = cfg.l1Coef;
  return {
    loss: (sumE2 + lam * l1Sum) / B,
    fvu: sumE2 / variance.total,
    fvuBase: sumBase / variance.base,
    fvuChat: sumChat / variance.chat,
    mse: sumE2 / (B * w),
    l1Loss: (lam * l1Sum) / B,
    auxkLoss: 0,
    l0: active / B,
    numDead: 0,
    threshold: null,
    lr,
  };
}

/** [rows, cols] i32 with every row 0..cols−1. */
function allLatents(rows: number, cols: number): Tensor {
  const ids = new Int32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) ids[r * cols + j] = j;
  return i32([rows, cols], ids);
}

/** [rows, cols] f32, 1 in column `col`, 0 elsewhere. */
function unitColumn(rows: number, cols: number, col: number): Tensor {
  const t = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) t[r * cols + col] = 1;
  return f32([rows, cols], t);
}

/** [rows, cols] f32, 1 in row 0, 0 elsewhere (picks row 0 of the right operand cols times). */
function unitRow(rows: number, cols: number): Tensor {
  const t = new Float32Array(rows * cols);
  t.fill(1, 0, cols);
  return f32([rows, cols], t);
}
