import { Tensor } from "@difflens/tensor";
import { SaeError } from "./errors.ts";
import type { Sae } from "./sae.ts";

/**
 * The small model interface splice metrics need (the runtime adapter lives in the app or tests/):
 * run token sequences, optionally passing the activations at the SAE's hook through `patch`, and
 * return next-token logits.
 */
export interface SpliceModel {
  /** Hook point the patch applies to (TransformerLens name). */
  readonly hookName: string;
  /** Width of the hook's activations. */
  readonly dIn: number;
  /**
   * Logits for one sequence: tokens [seq] → [seq, vocab] f32. With `patch`, the activations at
   * `hookName` ([seq, dIn]) are replaced by patch(acts) before the model continues.
   */
  logits(tokens: Int32Array, patch?: (acts: Tensor) => Tensor): Promise<Tensor>;
}

export interface SpliceMetrics {
  /** Mean next-token cross-entropy, clean model. */
  ceClean: number;
  /** With the SAE reconstruction spliced in at the hook. */
  ceSpliced: number;
  /** With the hook's activations zeroed. */
  ceZeroAblated: number;
  /** (ceZeroAblated − ceSpliced) / (ceZeroAblated − ceClean): 1 = lossless SAE, 0 = as bad as ablation. */
  ceRecovered: number;
  /** Mean over positions of KL(clean ‖ spliced) of the next-token distributions. */
  klSpliced: number;
  tokens: number;
}

/** CE and KL with the SAE spliced in, over sequences of token ids (each of length ≥ 2). */
export async function spliceMetrics(
  model: SpliceModel,
  sae: Sae,
  sequences: readonly Int32Array[],
): Promise<SpliceMetrics> {
  if (model.dIn !== sae.dIn) {
    throw new SaeError(
      "D_IN_MISMATCH",
      `spliceMetrics: model hook ${model.hookName} has width ${model.dIn}, SAE dIn=${sae.dIn}`,
      { expected: sae.dIn, got: model.dIn },
    );
  }
  let ceC = 0,
    ceS = 0,
    ceZ = 0,
    kl = 0,
    n = 0;
  for (const seq of sequences) {
    if (seq.length < 2) continue;
    const clean = await model.logits(seq);
    const spliced = await model.logits(seq, (acts) => sae.forward(acts));
    const zero = await model.logits(seq, (acts) => new Tensor("f32", acts.shape, new Float32Array(acts.size)));
    const vocab = clean.shape[1]!;
    for (let t = 0; t + 1 < seq.length; t++) {
      const target = seq[t + 1]!;
      const lc = logSoftmaxRow(clean.data as Float32Array, t * vocab, vocab);
      const ls = logSoftmaxRow(spliced.data as Float32Array, t * vocab, vocab);
      const lz = logSoftmaxRow(zero.data as Float32Array, t * vocab, vocab);
      ceC -= lc[target]!;
      ceS -= ls[target]!;
      ceZ -= lz[target]!;
      let k = 0;
      for (let v = 0; v < vocab; v++) k += Math.exp(lc[v]!) * (lc[v]! - ls[v]!);
      kl += k;
      n++;
    }
  }
  if (n === 0) throw new SaeError("CONFIG_INVALID", "spliceMetrics: no sequence with at least 2 tokens");
  ceC /= n;
  ceS /= n;
  ceZ /= n;
  kl /= n;
  return {
    ceClean: ceC,
    ceSpliced: ceS,
    ceZeroAblated: ceZ,
    ceRecovered: (ceZ - ceS) / (ceZ - ceC),
    klSpliced: kl,
    tokens: n,
  };
}

function logSoftmaxRow(x: Float32Array, off: number, n: number): Float64Array {
  let m = -Infinity;
  for (let i = 0; i < n; i++) m = Math.max(m, x[off + i]!);
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.exp(x[off + i]! - m);
  const lse = m + Math.log(s);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = x[off + i]! - lse;
  return out;
}
