/**
 * A live request's tokens as the run tokenized its data: plain text with no BOS and no separator added (the diffing
 * app packs text windows without one; Qwen has none), or one user turn rendered with the chat model's template under
 * a system-prompt condition, with the generation prompt. The run's mask (special tokens, first position) says
 * which tokens the SAE was trained on: the others are not scored.
 */
import {
  ChatError,
  type ChatTemplate,
  parseSystemCondition,
  type SystemCondition,
  SystemConditions,
  tokenizeChat,
} from "@difflens/chat";
import type { Tokenizer } from "@difflens/tokenizer";
import { type MaskConfig, maskRulesOf } from "diffing";
import { DashboardError } from "../errors.ts";

/** A request's input: exactly one of text or chat (checked by `checkLiveRequest`). */
export type LiveInput = { readonly text: string } | { readonly chat: { system: string | null; user: string } };

export interface LiveTokenIds {
  /** [seq] */
  readonly ids: Int32Array;
  /** 1 = the run's mask keeps the token (scored), 0 = excluded. // [seq] */
  readonly scored: Uint8Array;
}

export async function liveTokenIds(
  input: LiveInput,
  tokenizer: Tokenizer,
  template: ChatTemplate,
  mask: MaskConfig,
): Promise<LiveTokenIds> {
  const ids =
    "text" in input
      ? (await tokenizer.encode(input.text, { addSpecialTokens: false, offsets: false })).ids
      : await chatIds(input.chat, tokenizer, template);
  // The rules of @difflens/data's applyMaskRules, which the run's windows went through.
  const rules = maskRulesOf(mask, tokenizer);
  const excluded = new Set(rules.excludeIds);
  const scored = new Uint8Array(ids.length);
  for (let i = 0; i < ids.length; i++) scored[i] = excluded.has(ids[i]!) ? 0 : 1;
  if (rules.excludeFirstPosition && ids.length > 0) scored[0] = 0;
  return { ids, scored };
}

/** One user turn under the system condition, with the generation prompt; a message the template refuses is BAD_REQUEST. */
async function chatIds(
  chat: { system: string | null; user: string },
  tokenizer: Tokenizer,
  template: ChatTemplate,
): Promise<Int32Array> {
  const messages = [{ role: "user", content: chat.user }];
  try {
    const options = { condition: systemCondition(chat.system), addGenerationPrompt: true };
    return (await tokenizeChat(tokenizer, template, messages, options)).ids;
  } catch (error) {
    if (!(error instanceof ChatError)) throw error;
    const message = `the chat template cannot render this chat: ${error.message}`;
    throw new DashboardError("BAD_REQUEST", message, { field: "chat" }, { cause: error });
  }
}

/**
 * null → no system turn; a condition label (`model-default`, `empty`, `no-system-turn`, `custom:<text>`) → that
 * condition; any other text → that text as the system prompt.
 */
export function systemCondition(system: string | null): SystemCondition {
  if (system === null) return SystemConditions.noSystemTurn();
  try {
    return parseSystemCondition(system);
  } catch {
    return SystemConditions.custom(system);
  }
}

/** The longest input live accepts, whatever the model's context. */
export const LIVE_MAX_TOKENS = 2048;

/** BAD_REQUEST when the tokens exceed the model's context or LIVE_MAX_TOKENS. */
export function checkLength(tokens: number, modelContext: number): void {
  const limit = Math.min(modelContext, LIVE_MAX_TOKENS);
  if (tokens > limit)
    throw new DashboardError("BAD_REQUEST", `the input is ${tokens} tokens; live takes at most ${limit}`, {
      field: "text",
      expected: `≤ ${limit} tokens (the model's context ${modelContext}, live's limit ${LIVE_MAX_TOKENS})`,
      got: tokens,
    });
  if (tokens === 0)
    throw new DashboardError("BAD_REQUEST", "the input has no tokens", { field: "text", expected: "some text" });
}
