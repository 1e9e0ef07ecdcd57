import { TokenizerError } from "./errors.ts";

/**
 * The one token-batch type of difflens: sequences of different lengths padded into one row-major block.
 * The tokenizer's `encodeBatch` returns it, `@difflens/data`'s `batchWindows` yields it, and the runtime's
 * `forward`, `runWithCache`, `harvest` and `forceFeedBatch` read it (flat typed arrays, as the kernels want).
 *
 * Row b's real tokens are the columns [firstColumn[b], firstColumn[b] + lengths[b]) — where `attentionMask` is 1;
 * "position i of item b" (the runtime's per-row positions) is its i-th real token, whatever the padding side.
 */
export interface TokenBatch {
  /** Rows (items) in the batch. */
  readonly batchSize: number;
  /** Padded length of every row. */
  readonly seqLen: number;
  /** Where the padding sits: "left" keeps every row's last token in the last column (generation). */
  readonly padding: "left" | "right";
  /** Token ids, the pad id in padded slots. // [batchSize, seqLen] */
  readonly ids: Int32Array;
  /** 1 = real token (attended), 0 = padding. // [batchSize, seqLen] */
  readonly attentionMask: Uint8Array;
  /** Real tokens per row. // [batchSize] */
  readonly lengths: Int32Array;
  /** Column of each row's first real token (0 for right padding, seqLen − length for left). // [batchSize] */
  readonly firstColumn: Int32Array;
  /**
   * 0 = attend to this position but leave it out of harvested activations (a BOS, a separator, a non-content chat
   * region); padding is always left out. Absent: keep every real token. // [batchSize, seqLen]
   */
  readonly keepMask?: Uint8Array;
  /** Per row, UTF-16 offsets of the real tokens only (unpadded); set by `Tokenizer.encodeBatch`. */
  readonly offsets?: Array<Array<[number, number]>>;
}

/** How `padTokenRows` lays rows out. */
export interface PadTokenRowsOptions {
  readonly padding: "left" | "right";
  /** Written into padded slots (never attended). */
  readonly padTokenId: number;
  /** Padded length; default the longest row. */
  readonly seqLen?: number;
  /** Per row, a keep mask over its real tokens (see `TokenBatch.keepMask`). */
  readonly keepMasks?: readonly ArrayLike<number>[];
}

/** Lays out token rows of any lengths into one padded `TokenBatch` (the only place a batch is padded). */
export function padTokenRows(rows: readonly ArrayLike<number>[], options: PadTokenRowsOptions): TokenBatch {
  const { padding, padTokenId, keepMasks } = options;
  if (padding !== "left" && padding !== "right") {
    throw new TokenizerError("INVALID_OPTION", "padding must be left or right", {
      field: "padding",
      expected: '"left" | "right"',
      got: JSON.stringify(padding),
    });
  }
  const longest = rows.reduce((m, r) => Math.max(m, r.length), 0);
  const seqLen = options.seqLen ?? longest;
  if (!Number.isInteger(seqLen) || seqLen < longest) {
    throw new TokenizerError("INVALID_OPTION", "seqLen is shorter than the longest row", {
      field: "seqLen",
      expected: `an integer ≥ ${longest}`,
      got: String(seqLen),
    });
  }
  if (keepMasks !== undefined && keepMasks.length !== rows.length) {
    throw new TokenizerError("INVALID_OPTION", "keepMasks must have one entry per row", {
      field: "keepMasks",
      expected: `${rows.length} rows`,
      got: `${keepMasks.length} rows`,
    });
  }
  const batchSize = rows.length;
  const ids = new Int32Array(batchSize * seqLen).fill(padTokenId);
  const attentionMask = new Uint8Array(batchSize * seqLen);
  const keepMask = keepMasks ? new Uint8Array(batchSize * seqLen) : undefined;
  const lengths = new Int32Array(batchSize);
  const firstColumn = new Int32Array(batchSize);
  rows.forEach((row, b) => {
    const n = row.length;
    const start = b * seqLen + (padding === "left" ? seqLen - n : 0);
    ids.set(row, start);
    attentionMask.fill(1, start, start + n);
    lengths[b] = n;
    firstColumn[b] = start - b * seqLen;
    const keep = keepMasks?.[b];
    if (keep === undefined) return;
    if (keep.length !== n) {
      throw new TokenizerError("INVALID_OPTION", `keepMasks[${b}] does not match its row`, {
        field: `keepMasks[${b}]`,
        expected: `${n} entries`,
        got: `${keep.length} entries`,
      });
    }
    keepMask!.set(keep, start);
  });
  const batch = { batchSize, seqLen, padding, ids, attentionMask, lengths, firstColumn };
  return keepMask ? { ...batch, keepMask } : batch;
}
