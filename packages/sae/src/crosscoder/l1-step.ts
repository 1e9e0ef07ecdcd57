import { gemm } from "@difflens/tensor";
import type { CrosscoderTrainConfig } from "./config.ts";
import { type CrosscoderTrainState, decoderNorms } from "./state.ts";
import {
  applyCrosscoderUpdate,
  type CrosscoderGrads,
  type CrosscoderStepStats,
  concatScaled,
  f32,
  residualSums,
} from "./step-common.ts";

/**
 * One L1 crosscoder step (Anthropic 2024, "Sparse Crosscoders"), kept for comparison with BatchTopK: ReLU codes,
 *
 *   loss = (1/B)·Σᵢ [ ‖Xᵢ − X̂ᵢ‖² + λ·Σⱼ aᵢⱼ·(‖dⱼ^base‖ + ‖dⱼ^chat‖) ]
 *
 * The penalty's gradient reaches the decoder norms, which is what shrinks a weakly used model half to zero
 * ("Complete Shrinkage", Minder, Dumas et al. 2025). ReLU codes are dense early in training, so this step is dense:
 * four GEMMs per chunk of rows (encode, decode, and the two weight gradients) plus O(rows·dSae) passes here.
 */
export class L1Scratch {
  x = new Float32Array(0);
  a = new Float32Array(0);
  da = new Float32Array(0);
  e = new Float32Array(0);
  colSum = new Float64Array(0);
  fired = new Float64Array(0);
  norms = new Float32Array(0);
  grads: CrosscoderGrads = {
    gWEnc: new Float32Array(0),
    gWDec: new Float32Array(0),
    gBEnc: new Float32Array(0),
    gBDec: new Float32Array(0),
    touched: new Uint8Array(0),
  };

  ensure(rows: number, cfg: CrosscoderTrainConfig): void {
    const S = cfg.dSae,
      w = 2 * cfg.dIn;
    if (this.grads.gWEnc.length !== S * w) {
      this.grads = {
        gWEnc: new Float32Array(S * w),
        gWDec: new Float32Array(S * w),
        gBEnc: new Float32Array(S),
        gBDec: new Float32Array(w),
        touched: new Uint8Array(S),
      };
      this.colSum = new Float64Array(S);
      this.fired = new Float64Array(S);
      this.norms = new Float32Array(S);
    }
    if (this.x.length < rows * w) {
      this.x = new Float32Array(rows * w);
      this.e = new Float32Array(rows * w);
    }
    const chunk = Math.min(rows, CHUNK_ROWS);
    if (this.a.length < chunk * S) {
      this.a = new Float32Array(chunk * S);
      this.da = new Float32Array(chunk * S);
    }
  }
}

const CHUNK_ROWS = 256;

export function l1CrosscoderStep(
  state: CrosscoderTrainState,
  cfg: CrosscoderTrainConfig,
  base: Float32Array,
  chat: Float32Array,
  rows: number,
  sc: L1Scratch,
): CrosscoderStepStats {
  const { dIn, dSae: S } = cfg;
  const w = 2 * dIn,
    B = rows;
  sc.ensure(B, cfg);
  const p = state.params;
  const variance = concatScaled(base, chat, B, dIn, state.inputScale, sc.x);
  const g = sc.grads;
  const half = decoderNorms(p.wDec, dIn);
  for (let j = 0; j < S; j++) sc.norms[j] = half.base[j]! + half.chat[j]!;
  const lam = cfg.l1Coef,
    gScale = -2 / B,
    penalty = lam / B;
  const wEncT = f32([S, w], p.wEnc),
    wDecT = f32([S, w], p.wDec);
  sc.colSum.fill(0);
  sc.fired.fill(0);
  let l1Sum = 0,
    active = 0;
  const e = sc.e.subarray(0, B * w);
  for (let r0 = 0; r0 < B; r0 += CHUNK_ROWS) {
    const n = Math.min(CHUNK_ROWS, B - r0);
    const xc = f32([n, w], sc.x.subarray(r0 * w, (r0 + n) * w));
    const a = sc.a.subarray(0, n * S);
    gemm(xc, wEncT, { transB: true, out: f32([n, S], a) }); // z [n, dSae]
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < S; j++) {
        const v = Math.fround(a[r * S + j]! + p.bEnc[j]!);
        const act = Math.max(v, 0);
        a[r * S + j] = act;
        if (act > 0) {
          l1Sum += act * sc.norms[j]!;
          sc.colSum[j]! += act;
          sc.fired[j]! += 1;
          active++;
        }
      }
    }
    // e = X − bDec − a·Wdec, then dL/dX̂ = −2e/B in place.
    const ec = e.subarray(r0 * w, (r0 + n) * w);
    for (let r = 0; r < n; r++) for (let i = 0; i < w; i++) ec[r * w + i] = sc.x[(r0 + r) * w + i]! - p.bDec[i]!;
    gemm(f32([n, S], a), wDecT, { alpha: -1, beta: 1, out: f32([n, w], ec) });
    // (residual sums are taken over the whole batch below, before e is overwritten chunk by chunk)
  }
  const sums = residualSums(e, B, dIn);
  for (let r0 = 0; r0 < B; r0 += CHUNK_ROWS) {
    const n = Math.min(CHUNK_ROWS, B - r0);
    const xc = f32([n, w], sc.x.subarray(r0 * w, (r0 + n) * w));
    const a = sc.a.subarray(0, n * S),
      da = sc.da.subarray(0, n * S);
    if (B > CHUNK_ROWS) {
      // Recompute this chunk's codes (the buffer holds one chunk).
      gemm(xc, wEncT, { transB: true, out: f32([n, S], a) });
      for (let q = 0; q < n * S; q++) {
        const v = Math.fround(a[q]! + p.bEnc[q % S]!);
        a[q] = Math.max(v, 0);
      }
    }
    const ec = e.subarray(r0 * w, (r0 + n) * w);
    for (let q = 0; q < n * w; q++) {
      const v = Math.fround(ec[q]! * gScale);
      ec[q] = v;
      g.gBDec[q % w]! += v;
    }
    const gT = f32([n, w], ec);
    gemm(gT, wDecT, { transB: true, out: f32([n, S], da) }); // dL/da [n, dSae] (reconstruction part)
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < S; j++) {
        const q = r * S + j;
        const v = a[q]! > 0 ? Math.fround(da[q]! + penalty * sc.norms[j]!) : 0;
        da[q] = v;
        g.gBEnc[j]! += v;
      }
    }
    gemm(f32([n, S], a), gT, { transA: true, beta: 1, out: f32([S, w], g.gWDec) });
    gemm(f32([n, S], da), xc, { transA: true, beta: 1, out: f32([S, w], g.gWEnc) });
  }
  // The penalty through the decoder norms: ∂‖d_j^m‖/∂d_j^m = d_j^m / ‖d_j^m‖.
  for (let j = 0; j < S; j++) {
    if (sc.colSum[j] === 0) continue;
    for (let h = 0; h < 2; h++) {
      const nm = (h === 0 ? half.base : half.chat)[j]!;
      if (nm === 0) continue;
      const c = (penalty * sc.colSum[j]!) / nm;
      for (let i = j * w + h * dIn; i < j * w + (h + 1) * dIn; i++) g.gWDec[i] = g.gWDec[i]! + c * p.wDec[i]!;
    }
  }
  g.touched.fill(1);
  const lr = applyCrosscoderUpdate(state, cfg, g);
  for (let j = 0; j < S; j++) {
    state.sinceFired[j] = sc.fired[j]! > 0 ? 0 : state.sinceFired[j]! + B;
    state.fireCounts[j]! += sc.fired[j]!;
  }
  state.tokensSeen += B;
  state.windowTokens += B;
  const sumE2 = sums.base + sums.chat;
  return {
    loss: (sumE2 + lam * l1Sum) / B,
    fvu: sumE2 / variance.total,
    fvuBase: sums.base / variance.base,
    fvuChat: sums.chat / variance.chat,
    mse: sumE2 / (B * w),
    l1Loss: (lam * l1Sum) / B,
    auxkLoss: 0,
    l0: active / B,
    numDead: 0,
    threshold: null,
    lr,
  };
}
