import { TokenizerError } from "./errors.ts";
import { padTokenRows, type TokenBatch } from "./token-batch.ts";
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

/** Lays out already-encoded rows into one padded `TokenBatch` (with each row's offsets). */
export function padEncodings(
  rows: readonly TokenEncoding[],
  options: BatchEncodeOptions & { padTokenId: number },
): TokenBatch & { readonly offsets: Array<Array<[number, number]>> } {
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
  const { padding, padTokenId } = options;
  const batch = padTokenRows(
    rows.map((r) => r.ids),
    { padding, padTokenId, seqLen },
  );
  return { ...batch, offsets: rows.map((r) => r.offsets) };
}
