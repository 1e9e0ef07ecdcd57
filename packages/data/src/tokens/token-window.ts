/** A context window of token ids with its training mask (1 = an SAE trains on this position). */
export interface TokenWindow {
  readonly ids: Int32Array; // [contextSize]
  readonly mask: Uint8Array; // [contextSize]
}

/** Windows stacked for one forward pass: plain arrays, so the runtime needs nothing from this package. */
export interface TokenBatch {
  readonly batchSize: number;
  readonly contextSize: number;
  readonly ids: Int32Array; // [batchSize * contextSize], row-major
  readonly mask: Uint8Array; // [batchSize * contextSize]
}

/** What the data layer needs from a tokenizer (satisfied by @difflens/tokenizer's Tokenizer). */
export interface TextEncoder {
  encode(text: string, options: { addSpecialTokens: boolean }): { ids: ArrayLike<number> } | Promise<{ ids: ArrayLike<number> }>;
}

/** Groups windows of one context size into batches; the last partial batch is kept unless `dropLast`. */
export async function* batchWindows(
  windows: AsyncIterable<TokenWindow>,
  batchSize: number,
  { dropLast = false }: { dropLast?: boolean } = {},
): AsyncGenerator<TokenBatch> {
  let pending: TokenWindow[] = [];
  const flush = (): TokenBatch => {
    const contextSize = pending[0]!.ids.length;
    const ids = new Int32Array(pending.length * contextSize);
    const mask = new Uint8Array(pending.length * contextSize);
    pending.forEach((window, row) => {
      ids.set(window.ids, row * contextSize);
      mask.set(window.mask, row * contextSize);
    });
    const batch = { batchSize: pending.length, contextSize, ids, mask };
    pending = [];
    return batch;
  };
  for await (const window of windows) {
    if (pending.length > 0 && window.ids.length !== pending[0]!.ids.length) {
      throw new RangeError(`batchWindows: window of ${window.ids.length} tokens among windows of ${pending[0]!.ids.length}`);
    }
    pending.push(window);
    if (pending.length === batchSize) yield flush();
  }
  if (pending.length > 0 && !dropLast) yield flush();
}
