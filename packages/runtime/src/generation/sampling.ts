import type { Rng } from "@difflens/tensor";

export interface SamplingParams {
  /** 0 = greedy (argmax, first index on ties). */
  readonly temperature: number;
  /** Nucleus: keep the most probable tokens whose cumulative probability first reaches topP (1 = off). */
  readonly topP: number;
  /** Keep only the k most probable tokens (0 = off). */
  readonly topK: number;
}

/**
 * The distribution a sampler draws from, as HF's warpers build it: logits / temperature → top-k → top-p
 * (a token is kept iff the probability of the strictly more probable tokens before it, in descending order, is
 * below topP; at least one token is kept) → renormalised. Computed in float64. Returns token ids in descending
 * probability with their probabilities.
 */
export function samplingDistribution(
  logits: ArrayLike<number>,
  offset: number,
  vocab: number,
  p: SamplingParams,
): { ids: Int32Array; probs: Float64Array } {
  const scaled = new Float64Array(vocab);
  let max = -Infinity;
  for (let i = 0; i < vocab; i++) {
    scaled[i] = logits[offset + i]! / p.temperature;
    if (scaled[i]! > max) max = scaled[i]!;
  }
  const order = Array.from({ length: vocab }, (_, i) => i).sort((a, b) => scaled[b]! - scaled[a]! || a - b);
  const keepK = p.topK > 0 ? Math.min(p.topK, vocab) : vocab;
  let total = 0;
  const exp = new Float64Array(keepK);
  for (let r = 0; r < keepK; r++) {
    exp[r] = Math.exp(scaled[order[r]!]! - max);
    total += exp[r]!;
  }
  let kept = 0;
  let before = 0;
  while (kept < keepK && (kept === 0 || before < p.topP)) {
    before += exp[kept]! / total;
    kept++;
  }
  let keptTotal = 0;
  for (let r = 0; r < kept; r++) keptTotal += exp[r]!;
  const ids = new Int32Array(kept);
  const probs = new Float64Array(kept);
  for (let r = 0; r < kept; r++) {
    ids[r] = order[r]!;
    probs[r] = exp[r]! / keptTotal;
  }
  return { ids, probs };
}

/**
 * One token from a row of logits. Greedy uses no randomness; sampling draws exactly one `rng.nextFloat()`
 * (53-bit uniform) per call and walks the descending distribution — so a seed gives the same stream everywhere
 * and the same tokens wherever the logits are the same.
 */
export function sampleToken(
  logits: ArrayLike<number>,
  offset: number,
  vocab: number,
  p: SamplingParams,
  rng: Rng,
): number {
  if (p.temperature === 0) {
    let best = 0;
    let bestValue = -Infinity;
    for (let i = 0; i < vocab; i++) {
      const v = logits[offset + i]!;
      if (v > bestValue) {
        bestValue = v;
        best = i;
      }
    }
    return best;
  }
  const { ids, probs } = samplingDistribution(logits, offset, vocab, p);
  const u = rng.nextFloat();
  let acc = 0;
  for (let r = 0; r < ids.length; r++) {
    acc += probs[r]!;
    if (u < acc) return ids[r]!;
  }
  return ids[ids.length - 1]!;
}
