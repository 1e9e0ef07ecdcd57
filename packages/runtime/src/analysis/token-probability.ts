/** Where given tokens stand in a next-token distribution: probability and rank, per logits row. */
import { type Tensor, toFloat32Array } from "@difflens/tensor";
import { InputError } from "../errors.ts";

export interface TokenStanding {
  readonly token: number;
  /** softmax(logits)[token] (f64 log-sum-exp). */
  readonly probability: number;
  /** 1 + the number of tokens with a strictly larger logit (1 = the argmax; ties share the better rank). */
  readonly rank: number;
}

/** For each row of logits [..., vocab] and each token: its probability and rank. → [rows][tokens] */
export function tokenStandings(logits: Tensor, tokens: readonly number[]): TokenStanding[][] {
  const V = logits.shape[logits.shape.length - 1]!;
  for (const t of tokens) {
    if (!Number.isInteger(t) || t < 0 || t >= V) {
      throw new InputError("TOKEN_OUT_OF_RANGE", `tokenStandings: token ${t} is outside the vocabulary [0, ${V})`, {
        got: t,
        expected: `< ${V}`,
      });
    }
  }
  const x = toFloat32Array(logits);
  const rows = x.length / V;
  return Array.from({ length: rows }, (_, r) => {
    const off = r * V;
    let max = -Infinity;
    for (let i = 0; i < V; i++) max = Math.max(max, x[off + i]!);
    let sum = 0;
    for (let i = 0; i < V; i++) sum += Math.exp(x[off + i]! - max);
    return tokens.map((token) => {
      const logit = x[off + token]!;
      let above = 0;
      for (let i = 0; i < V; i++) if (x[off + i]! > logit) above++;
      return { token, probability: Math.exp(logit - max) / sum, rank: above + 1 };
    });
  });
}
