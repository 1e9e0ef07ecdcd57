/**
 * A persona's question as its model sees it: the persona's system prompt in the system turn, the question in one
 * user turn, rendered with the model's own chat template and the generation prompt (`<|im_start|>assistant\n`),
 * tokenized with both segmentations (stage 1 generates from `ids`; stage 2 reads regions from the segmentations).
 */
import { type ChatTemplate, type ChatTokenizer, type ChatTokens, DEFAULT_SPECIALS, tokenizeChat } from "@difflens/chat";

export function personaPrompt(
  tokenizer: ChatTokenizer,
  template: ChatTemplate,
  systemPrompt: string,
  question: string,
  specials: readonly string[] = DEFAULT_SPECIALS,
): Promise<ChatTokens> {
  const messages = [
    { role: "system", content: systemPrompt },
    { role: "user", content: question },
  ];
  return tokenizeChat(tokenizer, template, messages, { addGenerationPrompt: true, specials });
}
