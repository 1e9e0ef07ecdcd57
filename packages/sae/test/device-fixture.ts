import { Rng } from "@difflens/tensor";
import { resolveSaeTrainConfig, type SaeTrainConfig } from "../src/train/config.ts";
import { newTrainState, type TrainParams, type TrainState } from "../src/train/train-state.ts";

/*
 * A training fixture whose top-k selections have a margin, so that two backends summing in different orders
 * choose the same latents: every pre-activation of a row sits on its own rung of a ladder (rungs RUNG apart),
 * and the whole problem is rotated by a random orthogonal matrix Q so that every GEMM is dense.
 *   code c [dSae]: latents 0..15 ("rich") take the rungs 16..31 in a random order, latents 16..31 ("poor") the
 *   rungs 0..15 (plus noise < RUNG/5);  x = c·Q;  Wenc = Q;  bEnc = bDec = 0;  so z = inputScale·c
 *   (Wdec = Q's rows perturbed and renormalised).
 * The poor latents never reach the top k = 4, die after deadAfterTokens and feed AuxK (kAux 6 among 16 dead,
 * again on distinct rungs). lr is small enough that the rungs stay apart for 10 steps; `selectionMargin`
 * measures it rather than trusting it.
 */
const D = 32;
const RUNG = 0.1;

export const fixtureConfig: SaeTrainConfig = resolveSaeTrainConfig({
  dIn: D,
  dSae: D,
  k: 4,
  kAux: 6,
  deadAfterTokens: 100,
  lr: 1e-4,
  lrWarmupSteps: 2,
  lrDecaySteps: 4,
  lrEndFraction: 0.5,
  maxSteps: 10,
  auxkCoef: 1 / 32,
});
export const FIXTURE_ROWS = 64;
export const FIXTURE_INPUT_SCALE = 2;

/** Rows of a random orthogonal [n, n] matrix (Gram–Schmidt of Gaussian rows, float64). */
function randomOrthogonal(n: number, rng: Rng): Float64Array {
  const q = new Float64Array(n * n);
  for (let r = 0; r < n; r++) {
    const row = q.subarray(r * n, (r + 1) * n);
    for (let i = 0; i < n; i++) row[i] = rng.normal();
    for (let p = 0; p < r; p++) {
      const prev = q.subarray(p * n, (p + 1) * n);
      let dot = 0;
      for (let i = 0; i < n; i++) dot += row[i]! * prev[i]!;
      for (let i = 0; i < n; i++) row[i]! -= dot * prev[i]!;
    }
    let ss = 0;
    for (let i = 0; i < n; i++) ss += row[i]! * row[i]!;
    for (let i = 0; i < n; i++) row[i]! /= Math.sqrt(ss);
  }
  return q;
}

const q = randomOrthogonal(D, new Rng(20));

/** The fixture's initial state (fresh Adam moments, every latent alive). */
export function fixtureState(inputScale = FIXTURE_INPUT_SCALE): TrainState {
  // A decoder that is not the encoder: with Wdec = Wenc = Q the residual would be orthogonal to every active decoder
  // row, making the encoder gradient pure rounding noise, which Adam (a sign-like first step) amplifies to ±lr.
  const rng = new Rng(21);
  const wDec = new Float32Array(D * D);
  for (let j = 0; j < D; j++) {
    const row = Array.from({ length: D }, (_, i) => q[j * D + i]! + (0.3 / Math.sqrt(D)) * rng.normal());
    const norm = Math.hypot(...row);
    for (let i = 0; i < D; i++) wDec[j * D + i] = row[i]! / norm;
  }
  const params: TrainParams = {
    wEnc: Float32Array.from(q),
    bEnc: new Float32Array(D),
    wDec,
    bDec: new Float32Array(D),
  };
  return newTrainState(params, fixtureConfig, new Rng(0), inputScale);
}

/** Batch `index` of the fixture: [FIXTURE_ROWS, dIn] f32 raw activations. */
export function fixtureBatch(index: number): Float32Array {
  const rng = new Rng(1000 + index);
  const half = D / 2;
  const x = new Float32Array(FIXTURE_ROWS * D);
  const c = new Float64Array(D);
  for (let r = 0; r < FIXTURE_ROWS; r++) {
    const rich = shuffled(half, rng),
      poor = shuffled(half, rng);
    for (let j = 0; j < half; j++) {
      c[j] = RUNG * (half + rich[j]! + 0.2 * rng.nextFloat());
      c[half + j] = RUNG * (poor[j]! + 0.2 * rng.nextFloat());
    }
    for (let i = 0; i < D; i++) {
      let s = 0;
      for (let j = 0; j < D; j++) s += c[j]! * q[j * D + i]!;
      x[r * D + i] = s;
    }
  }
  return x;
}

function shuffled(n: number, rng: Rng): Int32Array {
  const a = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/**
 * The smallest gap, over the rows of x, between the k-th and (k+1)-th pre-activation z + bEnc — and between the
 * kAux-th and (kAux+1)-th among the dead latents — for the step that `state` (host arrays) is about to take.
 */
export function selectionMargin(state: TrainState, cfg: SaeTrainConfig, x: Float32Array): number {
  const { dIn: d, dSae: S, k } = cfg;
  const p = state.params;
  const dead: number[] = [];
  for (let j = 0; j < S; j++) if (state.sinceFired[j]! > cfg.deadAfterTokens) dead.push(j);
  const kAux = Math.min(cfg.kAux ?? Math.floor(d / 2), dead.length);
  const gap = (v: number[], kk: number): number => {
    const sorted = v.sort((a, b) => b - a);
    return kk > 0 && kk < sorted.length ? sorted[kk - 1]! - sorted[kk]! : Infinity;
  };
  let margin = Infinity;
  for (let r = 0; r < x.length / d; r++) {
    const z: number[] = [];
    for (let j = 0; j < S; j++) {
      let s = p.bEnc[j]!;
      for (let i = 0; i < d; i++)
        s += (Math.fround(x[r * d + i]! * state.inputScale) - p.bDec[i]!) * p.wEnc[j * d + i]!;
      z.push(s);
    }
    margin = Math.min(
      margin,
      gap([...z], k),
      gap(
        dead.map((j) => z[j]!),
        kAux,
      ),
    );
  }
  return margin;
}
