import { DataError } from "../errors.ts";
import { applyMaskRules, DEFAULT_MASK_RULES, type MaskRules } from "./mask.ts";
import type { TokenWindow } from "./token-window.ts";

/** One tokenized conversation with a region label per token (from @difflens/chat's segmentation). */
export interface TokenizedChat {
  readonly ids: ArrayLike<number>;
  /** Region label of each token, e.g. `system:content`, `assistant:header`, `generation-prompt`. */
  readonly regions: readonly string[];
}

/** A chat window keeps the region of every real token, so analyses can select e.g. assistant tokens. */
export interface ChatWindow extends TokenWindow {
  readonly regions: readonly string[]; // [contextSize]; padding is "padding"
  /** Real (unpadded) tokens at the start of the window. */
  readonly length: number;
}

export interface ChatWindowOptions {
  /** Tokens per window (the seed padded Alpaca to 512). */
  readonly contextSize: number;
  /** Fill after the chat (the seed used EOS); padding is always masked out. */
  readonly padId: number;
  /** What to do with a chat longer than the window. */
  readonly overflow: "truncate" | "skip" | "error";
  readonly maskRules?: MaskRules;
  /** Train only on tokens whose region label starts with one of these prefixes (default: all). */
  readonly trainRegions?: readonly string[];
}

/** One chat per window, right-padded: the layout of the seed's tokenized Alpaca parquet. */
export async function* chatWindows(
  chats: AsyncIterable<TokenizedChat>,
  options: ChatWindowOptions,
): AsyncGenerator<ChatWindow> {
  const { contextSize, padId, overflow, trainRegions } = options;
  const rules = options.maskRules ?? DEFAULT_MASK_RULES;
  let index = 0;
  for await (const chat of chats) {
    if (chat.ids.length !== chat.regions.length) {
      throw new DataError(
        "BAD_CONFIG",
        `chat ${index}: ${chat.ids.length} ids but ${chat.regions.length} region labels`,
      );
    }
    let length = chat.ids.length;
    if (length > contextSize) {
      if (overflow === "skip") {
        index++;
        continue;
      }
      if (overflow === "error") {
        throw new DataError(
          "CONTEXT_TOO_LONG",
          `chat ${index}: ${length} tokens do not fit a window of ${contextSize}`,
        );
      }
      length = contextSize;
    }
    const ids = new Int32Array(contextSize).fill(padId);
    const mask = new Uint8Array(contextSize);
    const regions: string[] = new Array<string>(contextSize).fill("padding");
    for (let i = 0; i < length; i++) {
      ids[i] = chat.ids[i]!;
      regions[i] = chat.regions[i]!;
      mask[i] = trainRegions === undefined || trainRegions.some((prefix) => regions[i]!.startsWith(prefix)) ? 1 : 0;
    }
    // Mask rules apply to real tokens only: padding stays masked even when padId is not in excludeIds.
    applyMaskRules(ids.subarray(0, length), mask.subarray(0, length), rules);
    yield { ids, mask, regions, length };
    index++;
  }
}
