import { readFileSync } from "node:fs";
import { Rng, Tensor } from "@difflens/tensor";
import { expect } from "vitest";
import {
  type CrosscoderKind,
  type CrosscoderTrainConfig,
  resolveCrosscoderTrainConfig,
} from "../src/crosscoder/config.ts";
import type { PairedActivationSource } from "../src/crosscoder/paired-source.ts";
import {
  CROSSCODER_PARAM_NAMES,
  type CrosscoderParams,
  type CrosscoderTrainState,
  newCrosscoderTrainState,
} from "../src/crosscoder/state.ts";
import type { CrosscoderStepStats } from "../src/crosscoder/step-common.ts";
import { expectClose, relErr } from "./helpers.ts";

/**
 * The crosscoder reference fixture, produced by tools/reference/crosscoder/reference_step.py (torch 1.13 dense
 * autograd + torch.optim.Adam): 10 steps of each kind from one initial state; every BatchTopK selection boundary in
 * it has a relative margin ≥ 1e-3, so backends that sum in different orders select the same latents.
 */
export const ref = JSON.parse(
  readFileSync(new URL("./fixtures/crosscoder/reference-steps.json", import.meta.url), "utf8"),
);
export const REFERENCE_STEPS: number = ref.batchtopk.metrics.length;

export function paramsFrom(rec: Record<string, number[]>): CrosscoderParams {
  return {
    wEnc: Float32Array.from(rec.wEnc!),
    bEnc: Float32Array.from(rec.bEnc!),
    wDec: Float32Array.from(rec.wDec!),
    bDec: Float32Array.from(rec.bDec!),
  };
}

/** The fixture's config for `kind` (candidateFactor 2: some rows fill their candidate lists, so widening runs). */
export function referenceConfig(kind: CrosscoderKind): CrosscoderTrainConfig {
  return resolveCrosscoderTrainConfig({ ...ref.config, kind, candidateFactor: 2 });
}

export function referenceState(cfg: CrosscoderTrainConfig): CrosscoderTrainState {
  return newCrosscoderTrainState(paramsFrom(ref.initial), cfg, new Rng(0), ref.inputScale);
}

export const referenceBatch = (s: number) => ({
  base: Float32Array.from(ref.base[s]),
  chat: Float32Array.from(ref.chat[s]),
});

/** The fixture's batches as a paired source. */
export function referenceSource(): PairedActivationSource {
  const d: number = ref.config.dIn,
    rows: number = ref.batchSize;
  return {
    dIn: d,
    async *[Symbol.asyncIterator]() {
      for (let s = 0; s < REFERENCE_STEPS; s++) {
        const b = referenceBatch(s);
        yield { base: new Tensor("f32", [rows, d], b.base), chat: new Tensor("f32", [rows, d], b.chat) };
      }
    },
  };
}

/** Per-step metrics and the final weights and firing statistics against the torch reference. */
export function expectReference(
  kind: CrosscoderKind,
  state: CrosscoderTrainState,
  stats: readonly CrosscoderStepStats[],
): void {
  const out = ref[kind];
  for (const [s, got] of stats.entries()) {
    const m = out.metrics[s];
    expectClose(got.lr, m.lr, { rtol: 1e-12 });
    expectClose(got.loss, m.loss, { rtol: 1e-4 });
    expectClose(got.fvu, m.fvu, { rtol: 1e-4 });
    expectClose(got.mse, m.mse, { rtol: 1e-4 });
    expectClose(got.l0, m.l0, { rtol: 1e-9 });
    if (kind === "batchtopk") {
      expect(got.numDead).toBe(m.numDead);
      expectClose(got.auxkLoss, m.auxkLoss, { rtol: 1e-4, atol: 1e-9 });
      expectClose(got.threshold!, m.threshold, { rtol: 1e-5 });
    }
  }
  expectSameWeights(state, paramsFrom(out.final), 1e-4);
  expect(Array.from(state.sinceFired)).toEqual(out.finalSinceFired);
}

export function expectSameWeights(state: CrosscoderTrainState, want: CrosscoderParams, rtol: number): void {
  for (const name of CROSSCODER_PARAM_NAMES) {
    const err = relErr(state.params[name], want[name]);
    expect(err, `${name} rel err ${err}`).toBeLessThan(rtol);
  }
}
