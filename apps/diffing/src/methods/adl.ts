/**
 * ADL, the activation-difference lens: the mean (chat − base) activation difference at the hook per position
 * bucket, each read through the chat model's logit lens (final RMSNorm + unembedding: the tokens the difference
 * promotes), and exported as a steering vector that `readouts steer` reads (`directionFile`).
 *
 * Buckets (rows are the paired store's kept positions; the store records each row's column and assistant offset):
 *   all           every row
 *   assistant     rows in the assistant turn's content (assistant_offset ≥ 0)
 *   assistant@j   the j-th token of the assistant content, j < firstPositions (the turn's opening tokens, where a
 *                 chat tune's "voice" shows first)
 *   position@j    window column j, j < firstPositions (the paper's first-tokens-of-text buckets: on plain text a
 *                 narrow finetune shows already on the first positions)
 * A bucket without rows has rows 0 and a zero mean, and is left out of the leading direction.
 */
import { logitLens, type Model } from "@difflens/runtime";
import { Tensor, writeSafetensors } from "@difflens/tensor";
import { cosine, leadingRightSingularVector } from "../compare/leading-direction.ts";
import type { PairedStore } from "./paired-store.ts";

export interface AdlBucket {
  readonly name: string;
  readonly rows: number;
  /** Mean chat − base [dIn] over the bucket's rows (f64 sums). */
  readonly mean: Float32Array;
  readonly norm: number;
}

export interface AdlResult {
  readonly hook: string;
  readonly buckets: AdlBucket[];
  /**
   * The leading direction of the non-empty bucket means (top right singular vector of their stack), unit norm,
   * signed to agree with the `all` bucket's mean.
   */
  readonly leading: Float32Array;
  /** Fraction of the stacked means' energy the leading direction explains. */
  readonly explained: number;
}

/** Mean differences per bucket over one pass of the store. */
export async function activationDifferenceLens(
  store: PairedStore,
  opts: { firstPositions?: number } = {},
): Promise<AdlResult> {
  const first = opts.firstPositions ?? 5;
  const d = store.dIn;
  const names = [
    "all",
    "assistant",
    ...Array.from({ length: first }, (_, j) => `assistant@${j}`),
    ...Array.from({ length: first }, (_, j) => `position@${j}`),
  ];
  const sums = names.map(() => new Float64Array(d));
  const counts = new Float64Array(names.length);
  for await (const shard of store.shards()) {
    for (let r = 0; r < shard.rows; r++) {
      const off = shard.assistantOffset[r]!,
        pos = shard.position[r]!;
      const into = [0];
      if (off >= 0) into.push(1);
      if (off >= 0 && off < first) into.push(2 + off);
      if (pos < first) into.push(2 + first + pos);
      for (const b of into) {
        counts[b]! += 1;
        const s = sums[b]!;
        for (let i = 0, o = r * d; i < d; i++, o++) s[i]! += shard.chat[o]! - shard.base[o]!;
      }
    }
  }
  const buckets = names.map((name, b) => {
    const mean = Float32Array.from(sums[b]!, (v) => (counts[b]! > 0 ? v / counts[b]! : 0));
    return { name, rows: counts[b]!, mean, norm: Math.hypot(...mean) };
  });
  const used = buckets.filter((b) => b.rows > 0);
  const lead = leadingRightSingularVector(
    used.map((b) => b.mean),
    d,
  );
  const sign = cosine(lead.direction, buckets[0]!.mean) < 0 ? -1 : 1;
  return {
    hook: store.manifest.hook,
    buckets,
    leading: Float32Array.from(lead.direction, (v) => sign * v),
    explained: lead.explained,
  };
}

export interface LensToken {
  readonly id: number;
  readonly logit: number;
  /** Decoded string when a decoder was given. */
  readonly token?: string;
}

/** Top `n` tokens a difference vector promotes through the chat model's final norm + unembedding. */
export async function adlLogitLens(
  chat: Model,
  vector: Float32Array,
  n = 20,
  decode?: (id: number) => string,
): Promise<LensToken[]> {
  const logits = (await logitLens(chat, new Tensor("f32", [1, vector.length], vector.slice()))).data as Float32Array;
  const order = Array.from({ length: logits.length }, (_, i) => i)
    .sort((a, b) => logits[b]! - logits[a]! || a - b)
    .slice(0, n);
  return order.map((id) => ({ id, logit: logits[id]!, ...(decode ? { token: decode(id) } : {}) }));
}

/**
 * Writes one bucket's mean difference as a steering-vector file: safetensors with the single tensor `direction`
 * F32 [dIn] — unnormalised, so `readouts steer` with alpha 1 adds the average chat shift — and metadata naming its
 * origin. `readDirectionFile` (what `steer`'s `directionFile` uses) reads it back.
 */
export async function writeAdlSteeringVector(
  file: string,
  result: AdlResult,
  bucket: string,
  provenance: { base: string; chat: string },
): Promise<void> {
  const b = result.buckets.find((x) => x.name === bucket);
  if (!b || b.rows === 0)
    throw new RangeError(
      `ADL steering vector: bucket "${bucket}" ${b ? "has no rows" : "does not exist"} (buckets: ${result.buckets
        .filter((x) => x.rows > 0)
        .map((x) => x.name)
        .join(", ")})`,
    );
  await writeSafetensors(
    file,
    { direction: new Tensor("f32", [b.mean.length], b.mean.slice()) },
    {
      format: "difflens-adl-direction",
      hook: result.hook,
      bucket,
      rows: String(b.rows),
      norm: String(b.norm),
      base: provenance.base,
      chat: provenance.chat,
    },
  );
}
