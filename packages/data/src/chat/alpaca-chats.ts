import {
  type AlpacaOptions,
  alpacaToMessages,
  type ChatTemplate,
  type ChatTokenizer,
  type Segmentation,
  type SystemCondition,
  tokenizeChat,
} from "@difflens/chat";
import type { TokenizedChat } from "../tokens/chat-windows.ts";

export interface AlpacaChatOptions extends AlpacaOptions {
  /** System-prompt condition the conversations are rendered under (default: as the messages are). */
  readonly condition?: SystemCondition;
}

/**
 * Alpaca rows rendered with the model's chat template and tokenized, each token labelled with its
 * segmentation-A region as `role:kind` (e.g. `assistant:content`, `user:header`, `system:structural`) so that
 * training or analysis can select, say, assistant tokens only.
 */
export async function* alpacaChats(
  rows: AsyncIterable<{ instruction: string; input?: string | null; output?: string | null }>,
  template: ChatTemplate,
  tokenizer: ChatTokenizer,
  options: AlpacaChatOptions = {},
): AsyncGenerator<TokenizedChat & { readonly text: string }> {
  const { condition, ...alpaca } = options;
  for await (const row of rows) {
    const messages = alpacaToMessages(row, alpaca);
    const chat = await tokenizeChat(tokenizer, template, messages, condition === undefined ? {} : { condition });
    yield { ids: chat.ids, regions: regionLabels(chat.segmentationA), text: chat.text };
  }
}

/** `role:kind` per token; regions without a role keep their kind alone. */
export function regionLabels(segmentation: Segmentation): string[] {
  const names = segmentation.regions.map((region) =>
    region.role === null ? region.kind : `${region.role}:${region.kind}`,
  );
  return Array.from(segmentation.regionOf, (index) => names[index]!);
}
