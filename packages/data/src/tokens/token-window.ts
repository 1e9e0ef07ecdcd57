import type { TokenBatch } from "@difflens/tokenizer";

/** A context window of token ids with its training mask (1 = an SAE trains on this position). */
export interface TokenWindow {
  readonly ids: Int32Array; // [contextSize]
  readonly mask: Uint8Array; // [contextSize]
  /** Real (attended) tokens at the start of the window; padding follows. Default: the whole window. */
  readonly length?: number;
}

/** What the data layer needs from a tokenizer (satisfied by @difflens/tokenizer's Tokenizer). */
export interface TextEncoder {
  encode(
    text: string,
    options: { addSpecialTokens: boolean },
  ): { ids: ArrayLike<number> } | Promise<{ ids: ArrayLike<number> }>;
}

export interface BatchWindowsOptions {
  /** Drop the last batch when it has fewer than `batchSize` windows. Default false. */
  readonly dropLast?: boolean;
  /** Cut the padding columns no window of the batch attends to (right padding past the longest). Default false. */
  readonly trimPadding?: boolean;
}

/**
 * Stacks windows of one context size into right-padded `TokenBatch`es (the windows are already laid out): each
 * window's training mask becomes the batch's `keepMask`, its `length` (default all) the attended tokens, so the
 * runtime's `harvest` takes the batch as it is. The last partial batch is kept unless `dropLast`.
 */
export async function* batchWindows(
  windows: AsyncIterable<TokenWindow>,
  batchSize: number,
  { dropLast = false, trimPadding = false }: BatchWindowsOptions = {},
): AsyncGenerator<TokenBatch> {
  let pending: TokenWindow[] = [];
  const flush = (): TokenBatch => {
    const n = pending.length;
    const contextSize = pending[0]!.ids.length;
    const lengths = Int32Array.from(pending, (w) => w.length ?? contextSize);
    const seqLen = trimPadding ? Math.max(...lengths) : contextSize;
    const ids = new Int32Array(n * seqLen);
    const attentionMask = new Uint8Array(n * seqLen);
    const keepMask = new Uint8Array(n * seqLen);
    pending.forEach((window, row) => {
      ids.set(window.ids.subarray(0, seqLen), row * seqLen);
      attentionMask.fill(1, row * seqLen, row * seqLen + lengths[row]!);
      keepMask.set(window.mask.subarray(0, lengths[row]), row * seqLen);
    });
    pending = [];
    const firstColumn = new Int32Array(n); // right padding: every row starts at column 0
    return { batchSize: n, seqLen, padding: "right", ids, attentionMask, lengths, firstColumn, keepMask };
  };
  for await (const window of windows) {
    if (pending.length > 0 && window.ids.length !== pending[0]!.ids.length) {
      throw new RangeError(
        `batchWindows: window of ${window.ids.length} tokens among windows of ${pending[0]!.ids.length}`,
      );
    }
    pending.push(window);
    if (pending.length === batchSize) yield flush();
  }
  if (pending.length > 0 && !dropLast) yield flush();
}
