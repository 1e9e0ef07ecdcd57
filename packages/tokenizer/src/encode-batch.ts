import { TokenizerError } from "./errors.ts";
import type { TokenEncoding } from "./tokenizer.ts";

/** Options of `Tokenizer.encodeBatch`. */
export interface BatchEncodeOptions {
  /** Which side padding goes on: "left" keeps every row's last token in the last column (generation). */
  padding: "left" | "right";
  /** Round the padded length up to a multiple of this (e.g. 8 for aligned kernels). */
  padToMultipleOf?: number;
  /** With `truncation: true`, the most tokens a row keeps; with `padTo: "max-length"`, the padded length. */
  maxLength?: number;
  /** Cut rows longer than `maxLength`. Default false: long rows make the whole block longer. */
  truncation?: boolean;
  /** Which end truncation cuts. Default "right". */
  truncationSide?: "left" | "right";
  /** Pad to the longest row (default) or to exactly `maxLength`. */
  padTo?: "longest" | "max-length";
  /** Overrides the tokenizer's pad token id (Qwen's is `<|endoftext|>`). */
  padTokenId?: number;
  /** Let the post-processor add BOS/EOS. Default true (transformers' default). */
  addSpecialTokens?: boolean;
  /** Compute per-token UTF-16 offsets (default true). */
  offsets?: boolean;
}

/** A padded block of token ids, row-major. */
export interface EncodedBatch {
  batchSize: number;
  seqLen: number;
  padding: "left" | "right";
  /** Token ids, pad id in padded slots. // [batch, seqLen] */
  ids: Int32Array;
  /** 1 for real tokens, 0 for padding. // [batch, seqLen] */
  attentionMask: Uint8Array;
  /** Real tokens per row. // [batch] */
  lengths: Int32Array;
  /** Column of each row's first real token (0 for right padding, seqLen − length for left). // [batch] */
  firstColumn: Int32Array;
  /** Per row, UTF-16 offsets of the real tokens only (unpadded), as in `TokenEncoding.offsets`. */
  offsets: Array<Array<[number, number]>>;
}

/** Lays out already-encoded rows into one padded block. */
export function padEncodings(
  rows: readonly TokenEncoding[],
  options: BatchEncodeOptions & { padTokenId: number },
): EncodedBatch {
  if (options.padding !== "left" && options.padding !== "right") {
    throw new TokenizerError("INVALID_OPTION", "padding must be left or right", {
      field: "padding",
      expected: '"left" | "right"',
      got: JSON.stringify(options.padding),
    });
  }
  let seqLen = 0;
  for (const r of rows) seqLen = Math.max(seqLen, r.ids.length);
  if (options.padTo === "max-length") {
    if (options.maxLength === undefined) {
      throw new TokenizerError("INVALID_OPTION", 'padTo "max-length" needs maxLength', { field: "maxLength" });
    }
    if (seqLen > options.maxLength) {
      throw new TokenizerError("INVALID_OPTION", "a row is longer than maxLength and truncation is off", {
        field: "truncation",
        expected: `rows ≤ ${options.maxLength} tokens`,
        got: `${seqLen} tokens`,
        fix: "pass truncation: true",
      });
    }
    seqLen = options.maxLength;
  }
  const multiple = options.padToMultipleOf;
  if (multiple !== undefined) {
    if (!Number.isInteger(multiple) || multiple < 1) {
      throw new TokenizerError("INVALID_OPTION", "padToMultipleOf must be a positive integer", {
        field: "padToMultipleOf",
        got: String(multiple),
      });
    }
    seqLen = Math.ceil(seqLen / multiple) * multiple;
  }
  const batchSize = rows.length;
  const ids = new Int32Array(batchSize * seqLen).fill(options.padTokenId);
  const attentionMask = new Uint8Array(batchSize * seqLen);
  const lengths = new Int32Array(batchSize);
  const firstColumn = new Int32Array(batchSize);
  rows.forEach((row, b) => {
    const n = row.ids.length;
    const first = options.padding === "left" ? seqLen - n : 0;
    ids.set(row.ids, b * seqLen + first);
    attentionMask.fill(1, b * seqLen + first, b * seqLen + first + n);
    lengths[b] = n;
    firstColumn[b] = first;
  });
  return { batchSize, seqLen, padding: options.padding, ids, attentionMask, lengths, firstColumn, offsets: rows.map((r) => r.offsets) };
}
