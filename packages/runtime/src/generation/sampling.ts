import type { Rng } from "@difflens/tensor";
import { comparatorOrder, descendingOrder } from "./descending-order.ts";

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
  const { order, exp, kept, keptTotal } = nucleus(logits, offset, vocab, p);
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
  const { order, exp, kept, keptTotal } = nucleus(logits, offset, vocab, p);
  const u = rng.nextFloat();
  let acc = 0;
  for (let r = 0; r < kept; r++) {
    acc += exp[r]! / keptTotal; // the probability samplingDistribution reports, the same float64 operations
    if (u < acc) return order[r]!;
  }
  return order[kept - 1]!;
}

let expScratch = new Float64Array(0);

/** Scaled logits more than TAIL_NATS below the best weigh exp(−40) ≈ 4e-18 or less: under half an ulp of 1. */
const TAIL_NATS = 40;

/**
 * The descending order of the tokens within TAIL_NATS of the best, when they are few (≤ vocab/8, ≤ 4096) and top-p < 1;
 * else null. The full order gives the same bits: the descending sum of weights starts at exp(0) = 1, so each tail
 * weight (< half an ulp of the running total) leaves it unchanged, and the nucleus fills before the tail (the head
 * holds all but ≤ vocab·e^-40 of the mass). Null on a NaN too (the comparator's order handles it).
 */
function headOrder(logits: ArrayLike<number>, offset: number, vocab: number, T: number, topP: number): number[] | null {
  if (!(topP < 1 - 1e-9 && T > 0)) return null;
  let max = -Infinity; // of the raw logits: dividing by T > 0 keeps the order
  for (let i = 0; i < vocab; i++) {
    const v = logits[offset + i]!;
    if (v > max) max = v;
    else if (Number.isNaN(v)) return null;
  }
  // A raw margin one nat wider than TAIL_NATS: the head may hold a few tokens more, never one fewer.
  const floor = max - (TAIL_NATS + 1) * T;
  const limit = Math.min(4096, vocab >> 3);
  const head: number[] = [];
  for (let i = 0; i < vocab; i++) if (logits[offset + i]! >= floor && head.push(i) > limit) return null;
  return head.sort((a, b) => logits[offset + b]! / T - logits[offset + a]! / T || a - b);
}

/**
 * The kept tokens in descending order (`order[0..kept)`), their unnormalised weights exp(scaled − max) and the
 * weights' sum. `exp` is a scratch array and `order` may be one: valid until the next call.
 */
function nucleus(
  logits: ArrayLike<number>,
  offset: number,
  vocab: number,
  p: SamplingParams,
): { order: ArrayLike<number>; exp: Float64Array; kept: number; keptTotal: number } {
  const T = p.temperature;
  const head = headOrder(logits, offset, vocab, T, p.topP);
  let order: ArrayLike<number> | null = head ?? descendingOrder(logits, offset, vocab, T);
  let max: number;
  if (order) {
    max = logits[offset + order[0]!]! / T; // no NaN here: the first in order is the maximum (±0 alike for exp)
  } else {
    max = -Infinity;
    for (let i = 0; i < vocab; i++) {
      const s = logits[offset + i]! / T;
      if (s > max) max = s;
    }
    order = comparatorOrder(logits, offset, vocab, T);
  }
  const keepK = Math.min(p.topK > 0 ? p.topK : vocab, order.length);
  if (expScratch.length < keepK) expScratch = new Float64Array(keepK);
  const exp = expScratch;
  let total = 0;
  for (let r = 0; r < keepK; r++) {
    exp[r] = Math.exp(logits[offset + order[r]!]! / T - max);
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
  return { order, exp, kept, keptTotal };
}
