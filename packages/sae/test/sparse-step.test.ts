import { readFileSync } from "node:fs";
import { nativeAvailable, Rng, useBackend } from "@difflens/tensor";
import { describe, expect, it } from "vitest";
import { resolveSaeTrainConfig } from "../src/train/config.ts";
import { StepScratch, trainStep } from "../src/train/sparse-step.ts";
import { newTrainState, PARAM_NAMES, type TrainParams } from "../src/train/train-state.ts";
import { expectClose, relErr } from "./helpers.ts";

// Produced by tools/reference/sae/topk_step_reference.py (torch 1.13, dense autograd + torch.optim.Adam).
const ref = JSON.parse(readFileSync(new URL("./fixtures/topk-step-reference.json", import.meta.url), "utf8"));

function paramsFrom(rec: Record<string, number[]>): TrainParams {
  return {
    wEnc: Float32Array.from(rec.wEnc!),
    bEnc: Float32Array.from(rec.bEnc!),
    wDec: Float32Array.from(rec.wDec!),
    bDec: Float32Array.from(rec.bDec!),
  };
}

// The step's kernels run on the current backend: check the reference match on each available one.
const backendNames: ("js" | "native")[] = ["js", ...(nativeAvailable().ok ? ["native" as const] : [])];

describe.each(backendNames)("sparse training step vs torch dense reference (%s backend)", (backend) => {
  it("matches weights after 10 steps within 1e-4 and the per-step metrics", () => {
    useBackend(backend);
    const cfg = resolveSaeTrainConfig(ref.config);
    const state = newTrainState(paramsFrom(ref.initial), cfg, new Rng(0), ref.inputScale);
    const sc = new StepScratch();
    for (let s = 0; s < ref.metrics.length; s++) {
      const stats = trainStep(state, cfg, Float32Array.from(ref.batches[s]), ref.batchSize, sc);
      const m = ref.metrics[s];
      expect(stats.numDead).toBe(m.numDead);
      expectClose(stats.lr, m.lr, { rtol: 1e-12 });
      expectClose(stats.loss, m.loss, { rtol: 1e-4 });
      expectClose(stats.fvu, m.fvu, { rtol: 1e-4 });
      expectClose(stats.auxkLoss, m.auxkLoss, { rtol: 1e-4, atol: 1e-9 });
      expectClose(stats.l0, m.l0, { rtol: 1e-9 });
      expectClose(stats.explainedVariance, m.explainedVariance, { rtol: 1e-4, atol: 1e-6 });
      expectClose(stats.mse, m.mse, { rtol: 1e-4 });
    }
    const final = paramsFrom(ref.final);
    for (const name of PARAM_NAMES) {
      const err = relErr(state.params[name], final[name]);
      expect(err, `${name} rel err ${err}`).toBeLessThan(1e-4);
    }
    expect(Array.from(state.sinceFired)).toEqual(ref.finalSinceFired);
    useBackend("js");
  });
});

import { forwardBackward } from "../src/train/sparse-step.ts";

/**
 * Plain dense float64 loss (FVU + coef·AuxK) — an independent implementation for finite differences.
 * AuxK's target e is held constant (detached, as in the definition): pass the unperturbed residuals
 * in `eFixed` ([B·d]); when absent they are computed and stored there.
 */
function denseLoss(
  p: { wEnc: Float64Array; bEnc: Float64Array; wDec: Float64Array; bDec: Float64Array },
  x: Float32Array,
  B: number,
  d: number,
  S: number,
  k: number,
  dead: boolean[],
  kAuxCfg: number,
  coef: number,
  eFixed: Float64Array,
  fill = false,
): number {
  const mean = new Float64Array(d);
  for (let b = 0; b < B; b++) for (let i = 0; i < d; i++) mean[i]! += x[b * d + i]! / B;
  let tv = 0;
  for (let b = 0; b < B; b++) for (let i = 0; i < d; i++) tv += (x[b * d + i]! - mean[i]!) ** 2;
  const numDead = dead.filter(Boolean).length;
  const kAux = Math.min(kAuxCfg, numDead),
    s = numDead > 0 ? Math.min(numDead / kAuxCfg, 1) : 0;
  let se = 0,
    sr = 0;
  for (let b = 0; b < B; b++) {
    const z = new Float64Array(S);
    for (let j = 0; j < S; j++) {
      let acc = p.bEnc[j]!;
      for (let i = 0; i < d; i++) acc += (x[b * d + i]! - p.bDec[i]!) * p.wEnc[j * d + i]!;
      z[j] = acc;
    }
    const order = Array.from(z.keys()).sort((a, c) => z[c]! - z[a]!);
    const acts = new Float64Array(S);
    for (const j of order.slice(0, k)) acts[j] = Math.max(0, z[j]!);
    const e = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      let xh = p.bDec[i]!;
      for (let j = 0; j < S; j++) xh += acts[j]! * p.wDec[j * d + i]!;
      e[i] = x[b * d + i]! - xh;
      se += e[i]! ** 2;
    }
    if (kAux > 0) {
      const aux = order.filter((j) => dead[j]).slice(0, kAux);
      if (fill) eFixed.set(e, b * d);
      for (let i = 0; i < d; i++) {
        let eh = 0;
        for (const j of aux) eh += Math.max(0, z[j]!) * p.wDec[j * d + i]!;
        sr += (eh - eFixed[b * d + i]!) ** 2;
      }
    }
  }
  return se / tv + (coef * s * sr) / tv;
}

describe("hand-written sparse backward", () => {
  it("matches central finite differences of a dense float64 loss (incl. AuxK)", () => {
    const d = 8,
      S = 24,
      k = 3,
      B = 6;
    const cfg = resolveSaeTrainConfig({ dIn: d, dSae: S, k, kAux: 4, deadAfterTokens: 10 });
    const rng = new Rng(9);
    const r = (n: number, sd: number) => Float32Array.from({ length: n }, () => rng.normal() * sd);
    const params = { wEnc: r(S * d, 0.5), bEnc: r(S, 0.2), wDec: r(S * d, 0.5), bDec: r(d, 0.3) };
    const state = newTrainState(params, cfg, rng);
    const dead = Array.from({ length: S }, (_, j) => j % 3 === 0);
    dead.forEach((isDead, j) => {
      state.sinceFired[j] = isDead ? 100 : 0;
    });
    const x = r(B * d, 1);
    const sc = new StepScratch();
    const stats = forwardBackward(state, cfg, x, B, sc);
    expect(stats.numDead).toBe(8);
    expect(stats.auxkLoss).toBeGreaterThan(0);
    const grads = { wEnc: sc.gWEnc, bEnc: sc.gBEnc, wDec: sc.gWDec, bDec: sc.gBDec };
    const p64 = {
      wEnc: Float64Array.from(params.wEnc),
      bEnc: Float64Array.from(params.bEnc),
      wDec: Float64Array.from(params.wDec),
      bDec: Float64Array.from(params.bDec),
    };
    const eFixed = new Float64Array(B * d);
    const L0 = denseLoss(p64, x, B, d, S, k, dead, 4, cfg.auxkCoef, eFixed, true);
    expect(Math.abs(L0 - stats.loss) / L0).toBeLessThan(1e-5);
    const h = 1e-5;
    const ours: number[] = [],
      fd: number[] = [];
    for (const name of ["wEnc", "bEnc", "wDec", "bDec"] as const) {
      for (let i = 0; i < p64[name].length; i++) {
        const keep = p64[name][i]!;
        p64[name][i] = keep + h;
        const up = denseLoss(p64, x, B, d, S, k, dead, 4, cfg.auxkCoef, eFixed);
        p64[name][i] = keep - h;
        const dn = denseLoss(p64, x, B, d, S, k, dead, 4, cfg.auxkCoef, eFixed);
        p64[name][i] = keep;
        fd.push((up - dn) / (2 * h));
        ours.push(grads[name][i]!);
      }
    }
    expect(relErr(ours, fd)).toBeLessThan(1e-4);
    // Sparsity: encoder/decoder rows of latents that neither fired nor served AuxK have exactly zero gradient.
    let zeroRows = 0;
    for (let j = 0; j < S; j++)
      if (!sc.touched[j]) {
        zeroRows++;
        for (let i = 0; i < d; i++) expect(sc.gWEnc[j * d + i]).toBe(0);
      }
    expect(zeroRows).toBeGreaterThan(0);
  });
});
