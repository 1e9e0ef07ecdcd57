import { readFileSync } from "node:fs";
import { nativeAvailable, Rng, useBackend } from "@difflens/tensor";
import { afterAll, describe, expect, it } from "vitest";
import { batchTopKCrosscoderStep, CrosscoderScratch } from "../src/crosscoder/batch-topk-step.ts";
import { batchTopKCrosscoderStepDevice } from "../src/crosscoder/batch-topk-step-device.ts";
import { resolveCrosscoderTrainConfig } from "../src/crosscoder/config.ts";
import { CrosscoderDeviceState } from "../src/crosscoder/device-state.ts";
import { L1Scratch, l1CrosscoderStep } from "../src/crosscoder/l1-step.ts";
import { l1CrosscoderStepDevice } from "../src/crosscoder/l1-step-device.ts";
import { CROSSCODER_PARAM_NAMES, type CrosscoderParams, newCrosscoderTrainState } from "../src/crosscoder/state.ts";
import type { CrosscoderStepStats } from "../src/crosscoder/step-common.ts";
import {
  expectReference,
  REFERENCE_STEPS,
  referenceBatch,
  referenceConfig,
  referenceState,
} from "./crosscoder-reference.ts";
import { expectClose, relErr } from "./helpers.ts";

// Produced by tools/reference/crosscoder/reference_step.py (torch 1.13 dense autograd + torch.optim.Adam); every
// selection boundary in it has a relative margin ≥ 1e-3.
const ref = JSON.parse(readFileSync(new URL("./fixtures/crosscoder/reference-steps.json", import.meta.url), "utf8"));

function paramsFrom(rec: Record<string, number[]>): CrosscoderParams {
  return {
    wEnc: Float32Array.from(rec.wEnc!),
    bEnc: Float32Array.from(rec.bEnc!),
    wDec: Float32Array.from(rec.wDec!),
    bDec: Float32Array.from(rec.bDec!),
  };
}

const backendNames: ("js" | "native")[] = ["js", ...(nativeAvailable().ok ? ["native" as const] : [])];
afterAll(() => {
  useBackend("js");
});

describe.each(backendNames)("crosscoder steps vs the torch dense reference (%s backend)", (backend) => {
  for (const kind of ["batchtopk", "l1"] as const) {
    it(`${kind}: weights after 10 steps within 1e-4 relative, and the per-step metrics`, () => {
      useBackend(backend);
      // candidateFactor 2: some rows fill their candidate lists, so the widening path runs too.
      const cfg = resolveCrosscoderTrainConfig({ ...ref.config, kind, candidateFactor: 2 });
      const state = newCrosscoderTrainState(paramsFrom(ref.initial), cfg, new Rng(0), ref.inputScale);
      const btk = new CrosscoderScratch(),
        l1 = new L1Scratch();
      const out = ref[kind];
      for (let s = 0; s < out.metrics.length; s++) {
        const base = Float32Array.from(ref.base[s]),
          chat = Float32Array.from(ref.chat[s]);
        const stats: CrosscoderStepStats =
          kind === "batchtopk"
            ? batchTopKCrosscoderStep(state, cfg, base, chat, ref.batchSize, btk)
            : l1CrosscoderStep(state, cfg, base, chat, ref.batchSize, l1);
        const m = out.metrics[s];
        expectClose(stats.lr, m.lr, { rtol: 1e-12 });
        expectClose(stats.loss, m.loss, { rtol: 1e-4 });
        expectClose(stats.fvu, m.fvu, { rtol: 1e-4 });
        expectClose(stats.mse, m.mse, { rtol: 1e-4 });
        expectClose(stats.l0, m.l0, { rtol: 1e-9 });
        if (kind === "batchtopk") {
          expect(stats.numDead).toBe(m.numDead);
          expectClose(stats.auxkLoss, m.auxkLoss, { rtol: 1e-4, atol: 1e-9 });
          expectClose(stats.threshold!, m.threshold, { rtol: 1e-5 });
        }
      }
      const final = paramsFrom(out.final);
      for (const name of CROSSCODER_PARAM_NAMES) {
        const err = relErr(state.params[name], final[name]);
        expect(err, `${name} rel err ${err}`).toBeLessThan(1e-4);
      }
      expect(Array.from(state.sinceFired)).toEqual(out.finalSinceFired);
    });
  }
});

describe("BatchTopK candidate width", () => {
  it("does not change the result: k candidates per row (widened on demand) equals every latent as a candidate", () => {
    useBackend("js");
    const run = (candidateFactor: number) => {
      const cfg = resolveCrosscoderTrainConfig({ ...ref.config, candidateFactor });
      const state = newCrosscoderTrainState(paramsFrom(ref.initial), cfg, new Rng(0), ref.inputScale);
      const sc = new CrosscoderScratch();
      for (let s = 0; s < 4; s++)
        batchTopKCrosscoderStep(
          state,
          cfg,
          Float32Array.from(ref.base[s]),
          Float32Array.from(ref.chat[s]),
          ref.batchSize,
          sc,
        );
      return state;
    };
    const narrow = run(1),
      full = run(ref.config.dSae / ref.config.k);
    for (const name of CROSSCODER_PARAM_NAMES)
      expect(Buffer.from(narrow.params[name].buffer)).toEqual(Buffer.from(full.params[name].buffer));
    expect(narrow.threshold).toBe(full.threshold);
  });
});

describe.each(backendNames)(
  "crosscoder device steps, run on the %s backend, vs the torch dense reference",
  (backend) => {
    // The webgpu steps' code path (kernels only, two readbacks); on a CPU backend it runs on the host arrays.
    for (const [kind, blockRows] of [
      ["batchtopk", undefined],
      ["batchtopk", 5],
      ["l1", undefined],
      ["l1", 5],
    ] as const) {
      const blocks = blockRows ? `blocks of ${blockRows} rows` : "one block";
      it(`${kind} (${blocks}): weights after 10 steps within 1e-4 relative, and the per-step metrics`, async () => {
        useBackend(backend);
        const cfg = referenceConfig(kind);
        const state = referenceState(cfg);
        const dev = CrosscoderDeviceState.upload(state, cfg);
        const step = kind === "batchtopk" ? batchTopKCrosscoderStepDevice : l1CrosscoderStepDevice;
        const stats: CrosscoderStepStats[] = [];
        for (let s = 0; s < REFERENCE_STEPS; s++) {
          const { base, chat } = referenceBatch(s);
          stats.push(await step(state, cfg, base, chat, ref.batchSize, dev, blockRows ? { blockRows } : {}));
        }
        await dev.download(state);
        dev.dispose();
        expectReference(kind, state, stats);
      });
    }
  },
);
