import { expect } from "vitest";
import type { StepStats } from "../src/train/sparse-step.ts";
import { PARAM_NAMES, type TrainState } from "../src/train/train-state.ts";
import { expectClose, relErr } from "./helpers.ts";

/** A training run as the device-step tests compare them: the final state and each step's stats. */
export interface Run {
  state: TrainState;
  stats: StepStats[];
}

/** Everything the two runs must agree on: parameters, moments, counters, firing statistics, per-step stats. */
export function expectSameRun(got: Run, want: Run, rtol: number): void {
  for (const group of ["params", "adamM", "adamV"] as const) {
    for (const n of PARAM_NAMES) {
      const err = relErr(got.state[group][n], want.state[group][n]);
      expect(err, `${group}.${n} relative error ${err}`).toBeLessThan(rtol);
    }
  }
  for (const key of ["step", "adamT", "tokensSeen", "windowTokens"] as const)
    expect(got.state[key]).toBe(want.state[key]);
  expect(Array.from(got.state.sinceFired)).toEqual(Array.from(want.state.sinceFired));
  expect(Array.from(got.state.fireCounts)).toEqual(Array.from(want.state.fireCounts));
  expect(got.stats.length).toBe(want.stats.length);
  for (const [s, w] of want.stats.entries()) {
    const g = got.stats[s]!;
    expect(g.numDead, `step ${s} numDead`).toBe(w.numDead);
    expect(g.l0, `step ${s} l0`).toBe(w.l0);
    expect(g.lr, `step ${s} lr`).toBe(w.lr);
    for (const key of ["loss", "fvu", "mse", "auxkLoss", "explainedVariance"] as const)
      expectClose(g[key], w[key], { rtol, atol: 1e-12 });
  }
}
