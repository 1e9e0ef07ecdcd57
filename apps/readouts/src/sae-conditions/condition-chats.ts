/**
 * Every (condition, prompt) as the model sees it: the user's prompt in one user turn under the condition's system
 * turn, rendered with the model's own chat template and the generation prompt (`<|im_start|>assistant\n`), tokenized,
 * with the readout positions resolved. Also the seed's lexical confound: the tokens by which the conditions' system
 * prompts differ.
 */
import {
  type ChatTemplate,
  type ChatTokens,
  findRegions,
  type TokenizeChatOptions,
  tokenizeChat,
} from "@difflens/chat";
import type { Tokenizer } from "@difflens/tokenizer";
import type { LabeledCondition } from "./config.ts";
import type { Prompt } from "./prompt-files.ts";
import { type ReadoutPosition, resolvePositions } from "./readout-position.ts";

export interface ConditionChats {
  readonly label: string;
  /** One per prompt, in prompt order. */
  readonly chats: readonly ChatTokens[];
  /** Every position any readout reads, per prompt (increasing): what one forward pass keeps. // [prompts][nPos] */
  readonly positions: readonly (readonly number[])[];
  /** Per readout position (config order): its positions per prompt, and its fallback. */
  readonly readouts: readonly ConditionReadout[];
  /** The tokens of the system turn's content (the template's own default turn included), as text. */
  readonly systemTokens: readonly string[];
}

export interface ConditionReadout {
  /** Token positions per prompt. // [prompts][nPos] */
  readonly positions: readonly (readonly number[])[];
  /** Set when last-system-token had to fall back (no system content token). */
  readonly fallback: string | null;
}

export async function tokenizeConditions(
  tokenizer: Tokenizer,
  template: ChatTemplate,
  conditions: readonly LabeledCondition[],
  prompts: readonly Prompt[],
  readoutPositions: readonly ReadoutPosition[],
): Promise<ConditionChats[]> {
  const out: ConditionChats[] = [];
  for (const { label, condition } of conditions) {
    const chats: ChatTokens[] = [];
    const readouts = readoutPositions.map(() => ({ positions: [] as number[][], fallback: null as string | null }));
    for (const prompt of prompts) {
      const options: TokenizeChatOptions = { condition, addGenerationPrompt: true };
      const chat = await tokenizeChat(tokenizer, template, [{ role: "user", content: prompt.text }], options);
      chats.push(chat);
      readoutPositions.forEach((position, r) => {
        const resolved = resolvePositions(position, chat, label);
        readouts[r]!.positions.push(resolved.positions);
        readouts[r]!.fallback ??= resolved.fallback;
      });
    }
    const positions = prompts.map((_, p) =>
      [...new Set(readouts.flatMap((r) => r.positions[p]!))].sort((a, b) => a - b),
    );
    out.push({ label, chats, positions, readouts, systemTokens: systemTokens(chats[0]!) });
  }
  return out;
}

function systemTokens(chat: ChatTokens): string[] {
  return findRegions(chat, { role: "system", kind: "content" })
    .flatMap((r) => Array.from(r.positions))
    .map((t) => chat.text.slice(chat.offsets[t]![0], chat.offsets[t]![1]));
}

export interface LexicalDifference {
  readonly pair: readonly [string, string];
  /** System-prompt tokens of a that b lacks (multiset difference, in a's order). */
  readonly onlyInA: readonly string[];
  readonly onlyInB: readonly string[];
}

/** The tokens by which two conditions' system prompts differ, for every pair asked. */
export function lexicalDifferences(
  chats: readonly ConditionChats[],
  pairs: readonly (readonly [string, string])[],
): LexicalDifference[] {
  const tokensOf = (label: string) => chats.find((c) => c.label === label)!.systemTokens;
  return pairs.map(([a, b]) => ({
    pair: [a, b] as const,
    onlyInA: multisetMinus(tokensOf(a), tokensOf(b)),
    onlyInB: multisetMinus(tokensOf(b), tokensOf(a)),
  }));
}

function multisetMinus(a: readonly string[], b: readonly string[]): string[] {
  const left = new Map<string, number>();
  for (const t of b) left.set(t, (left.get(t) ?? 0) + 1);
  return a.filter((t) => {
    const n = left.get(t) ?? 0;
    if (n > 0) left.set(t, n - 1);
    return n === 0;
  });
}
