import { DataError } from "../errors.ts";
import { applyMaskRules, DEFAULT_MASK_RULES, type MaskRules } from "./mask.ts";
import type { TextEncoder, TokenWindow } from "./token-window.ts";

export interface PackTextOptions {
  /** Tokens per window (the seed used 256). */
  readonly contextSize: number;
  /** Token written between documents (Qwen: `<|endoftext|>`, 151643). */
  readonly separatorId: number;
  /** Prepended to every window when the model expects a BOS (Qwen has none). */
  readonly bosId?: number | undefined;
  readonly maskRules?: MaskRules;
}

/**
 * Pile-style packing: tokenize each document, join them with the separator, and cut the stream into
 * windows of exactly `contextSize` tokens (a trailing partial window is dropped, as SAE training does).
 */
export async function* packTextWindows(
  texts: AsyncIterable<string>,
  tokenizer: TextEncoder,
  options: PackTextOptions,
): AsyncGenerator<TokenWindow> {
  const { contextSize, separatorId, bosId } = options;
  const rules = options.maskRules ?? DEFAULT_MASK_RULES;
  const body = bosId === undefined ? contextSize : contextSize - 1;
  if (!Number.isInteger(contextSize) || body < 1) {
    throw new DataError(
      "BAD_CONFIG",
      `packTextWindows: contextSize must be an integer ≥ ${bosId === undefined ? 1 : 2}, got ${contextSize}`,
    );
  }
  let pending: number[] = [];
  const emit = (tokens: number[]): TokenWindow => {
    const ids = new Int32Array(contextSize);
    if (bosId !== undefined) ids[0] = bosId;
    ids.set(tokens, contextSize - body);
    const mask = new Uint8Array(contextSize).fill(1);
    if (bosId !== undefined) mask[0] = 0;
    return { ids, mask: applyMaskRules(ids, mask, rules) };
  };
  for await (const text of texts) {
    const { ids } = await tokenizer.encode(text, { addSpecialTokens: false });
    for (let i = 0; i < ids.length; i++) pending.push(ids[i]!);
    pending.push(separatorId);
    while (pending.length >= body) {
      yield emit(pending.slice(0, body));
      pending = pending.slice(body);
    }
  }
}
