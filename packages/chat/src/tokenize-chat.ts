import type { ChatTemplate } from "./chat-template.ts";
import { ChatError } from "./errors.ts";
import type { ChatMessage } from "./messages.ts";
import { type Segmentation, segmentationA, segmentationB } from "./regions.ts";
import { type RenderChatOptions, type RenderedChat, renderChat } from "./render-chat.ts";

/** What tokenizeChat needs from a tokenizer; `@difflens/tokenizer`'s Tokenizer satisfies it. */
export interface ChatTokenizer {
  encode(
    text: string,
    options: { addSpecialTokens?: boolean; offsets?: boolean },
  ): Promise<{ ids: Int32Array; offsets: Array<[number, number]> }>;
}

/** Seed 001's structural specials: stripped into their own region by segmentation B. */
export const DEFAULT_SPECIALS: readonly string[] = Object.freeze([
  "<|im_start|>",
  "<|im_end|>",
  "<|endoftext|>",
  "\n",
  "\n\n",
]);

/** Options of `tokenizeChat`. */
export interface TokenizeChatOptions extends RenderChatOptions {
  /**
   * Strings whose token ids form segmentation B's `specials` region; each must encode to exactly one token. Default:
   * the layout's (`TurnMarkers.specials`: Llama 3's and Gemma's markers and newlines), else `DEFAULT_SPECIALS`.
   */
  specials?: readonly string[];
}

/** A tokenized conversation with both segmentations. */
export interface ChatTokens {
  rendered: RenderedChat;
  text: string;
  /** Token ids of `text` (no special tokens added: the template already wrote them). // [seq] */
  ids: Int32Array;
  /** UTF-16 [start, end) of each token in `text`. // [seq] */
  offsets: Array<[number, number]>;
  /** Segmentation A: turn regions (header, content, structural), generation prompt, outside. */
  segmentationA: Segmentation;
  /** Segmentation B: as A, with every token whose id is in `specialIds` moved to one `specials` region. */
  segmentationB: Segmentation;
  /** The ids of the specials list. */
  specialIds: ReadonlySet<number>;
}

const specialIdCache = new WeakMap<object, Map<string, number>>();

/** Ids of the specials list; each string must be exactly one token. */
export async function resolveSpecialIds(tokenizer: ChatTokenizer, specials: readonly string[]): Promise<Set<number>> {
  let cache = specialIdCache.get(tokenizer);
  if (cache === undefined) {
    cache = new Map();
    specialIdCache.set(tokenizer, cache);
  }
  const ids = new Set<number>();
  for (const s of specials) {
    let id = cache.get(s);
    if (id === undefined) {
      const encoded = await tokenizer.encode(s, { addSpecialTokens: false, offsets: false });
      if (encoded.ids.length !== 1) {
        throw new ChatError("SPECIAL_NOT_SINGLE_TOKEN", `specials entry ${JSON.stringify(s)} is not one token`, {
          field: "specials",
          expected: "a string the tokenizer encodes to exactly one id",
          got: `${encoded.ids.length} ids: [${Array.from(encoded.ids).join(", ")}]`,
        });
      }
      id = encoded.ids[0] as number;
      cache.set(s, id);
    }
    ids.add(id);
  }
  return ids;
}

/** Tokenizes an already rendered chat and builds both segmentations (partitions asserted). */
export async function tokenizeRendered(
  tokenizer: ChatTokenizer,
  rendered: RenderedChat,
  options: { specials?: readonly string[] } = {},
): Promise<ChatTokens> {
  const specialIds = await resolveSpecialIds(
    tokenizer,
    options.specials ?? rendered.markers.specials ?? DEFAULT_SPECIALS,
  );
  const { ids, offsets } = await tokenizer.encode(rendered.text, { addSpecialTokens: false, offsets: true });
  const a = segmentationA(rendered, offsets);
  const b = segmentationB(a, ids, specialIds);
  return { rendered, text: rendered.text, ids, offsets, segmentationA: a, segmentationB: b, specialIds };
}

/** Renders a conversation under a condition, tokenizes it and labels every token (see README: regions). */
export async function tokenizeChat(
  tokenizer: ChatTokenizer,
  template: ChatTemplate,
  messages: readonly ChatMessage[],
  options: TokenizeChatOptions = {},
): Promise<ChatTokens> {
  const rendered = renderChat(template, messages, options);
  return tokenizeRendered(tokenizer, rendered, options.specials === undefined ? {} : { specials: options.specials });
}
