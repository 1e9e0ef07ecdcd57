/**
 * The toy's SAE for one layer: a dictionary built from the layer's activations, honest in that its encoder is what
 * fires. Its latents are ± each principal direction of the base model's activations with u projected out (so every
 * one of them is orthogonal to u), and one latent whose encoder and decoder are u, biased to stay silent on the base
 * model's own spread along u (it fires when the plant is present). bDec is the activations' mean. BatchTopK as
 * dictionary_learning runs it: its threshold is the mean over the calibration rows of each row's k-th largest
 * activation (what the library's training estimates), so at inference about k latents fire per token.
 */
import { Sae } from "@difflens/sae";
import { symmetricEigen } from "@difflens/stats";
import { type Rng, Tensor } from "@difflens/tensor";

/** Latents active per row. */
export const TOY_SAE_K = 32;
/** The u latent's threshold, in standard deviations of the base activations along u. */
const U_THRESHOLD_SIGMAS = 3;
const N_ORTHOGONAL = 10;

export interface ToySae {
  readonly sae: Sae;
  readonly uLatent: number;
  readonly orthogonalLatents: readonly number[];
}

/** acts: [rows, dIn] base-model activations at the layer; u: unit [dIn]. Latent order is shuffled by `rng`. */
export function buildToySae(acts: Float32Array, u: Float32Array, rng: Rng, hookName: string): ToySae {
  const dIn = u.length;
  const rows = acts.length / dIn;
  const mean = new Float64Array(dIn);
  for (let r = 0; r < rows; r++) for (let i = 0; i < dIn; i++) mean[i]! += acts[r * dIn + i]! / rows;
  // Centre, split off the component along u, and accumulate the covariance of the rest.
  const cov = new Float64Array(dIn * dIn);
  const centred = new Float64Array(dIn);
  let alongSq = 0;
  for (let r = 0; r < rows; r++) {
    let along = 0;
    for (let i = 0; i < dIn; i++) {
      centred[i] = acts[r * dIn + i]! - mean[i]!;
      along += centred[i]! * u[i]!;
    }
    alongSq += along * along;
    for (let i = 0; i < dIn; i++) centred[i]! -= along * u[i]!;
    for (let i = 0; i < dIn; i++) for (let j = 0; j < dIn; j++) cov[i * dIn + j]! += centred[i]! * centred[j]!;
  }
  const sigmaU = Math.sqrt(alongSq / rows);
  // The covariance has u in its null space: its other dIn − 1 eigenvectors span u's complement.
  const { vectors } = symmetricEigen(cov, dIn); // columns sorted by eigenvalue, largest first
  const directions: Float32Array[] = [];
  for (let e = 0; e < dIn - 1; e++) {
    const v = unitOrthogonalTo(
      Float64Array.from({ length: dIn }, (_, i) => vectors[i * dIn + e]!),
      u,
    );
    directions.push(
      v,
      v.map((x) => -x),
    );
  }
  const dSae = directions.length + 1;
  const order = shuffled(dSae, rng); // order[slot] = which entry lands in latent `slot`; entry 0 is u
  const wEnc = new Float32Array(dSae * dIn);
  const bEnc = new Float32Array(dSae);
  let uLatent = -1;
  const pcLatents: number[] = [];
  order.forEach((entry, slot) => {
    wEnc.set(entry === 0 ? u : directions[entry - 1]!, slot * dIn);
    if (entry === 0) {
      uLatent = slot;
      bEnc[slot] = -U_THRESHOLD_SIGMAS * sigmaU;
    } else pcLatents.push(slot);
  });
  const orthogonalLatents = shuffled(pcLatents.length, rng)
    .slice(0, N_ORTHOGONAL)
    .map((i) => pcLatents[i]!)
    .sort((a, b) => a - b);
  const weights = { wEnc, bEnc, wDec: wEnc.slice(), bDec: Float32Array.from(mean) };
  const threshold = meanKthActivation(new Sae({ dIn, dSae, activation: { kind: "relu" } }, weights), acts, rows);
  const activation = { kind: "batchtopk", k: TOY_SAE_K, threshold, useThreshold: true } as const;
  return { sae: new Sae({ dIn, dSae, activation, hookName }, weights), uLatent, orthogonalLatents };
}

/** Mean over rows of the k-th largest ReLU activation. acts: [rows, dIn] */
function meanKthActivation(relu: Sae, acts: Float32Array, rows: number): number {
  const pre = relu.preActivationsOf(new Tensor("f32", [rows, relu.dIn], acts)).data as Float32Array; // [rows, dSae]
  let sum = 0;
  for (let r = 0; r < rows; r++) {
    const row = Array.from(pre.subarray(r * relu.dSae, (r + 1) * relu.dSae)).sort((a, b) => b - a);
    sum += Math.max(0, row[TOY_SAE_K - 1]!);
  }
  return sum / rows;
}

/** A seeded permutation of 0..n−1 (Fisher–Yates). */
function shuffled(n: number, rng: Rng): number[] {
  const out = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function unitOrthogonalTo(v: Float64Array, u: Float32Array): Float32Array {
  let along = 0;
  for (let i = 0; i < v.length; i++) along += v[i]! * u[i]!;
  const out = Float32Array.from(v, (x, i) => x - along * u[i]!);
  const norm = Math.hypot(...out);
  return out.map((x) => x / norm);
}
