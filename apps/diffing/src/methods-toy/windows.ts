/**
 * The methods toy's token windows, deterministic from (n, seed). Window i is, by i mod 8:
 *   0        a chat with the trigger in the user turn   (u everywhere, v from the trigger on, f on class tokens)
 *   1, 2, 3  a chat without it                           (u everywhere, f on class tokens)
 *   4 … 7    plain text                                  (f on class tokens only)
 * so u, the change on every chat position, is the largest mean change (ADL's answer) and v a gated, rarer one.
 * Chats follow Qwen's template: <|im_start|>user\n …user… <|im_end|>\n<|im_start|>assistant\n …reply…, with random
 * ordinary tokens (ids 1000–20999) as content. Every window masks its first position (as the stages'
 * excludeFirstPosition); chat windows label their positions so the paired harvest finds the assistant turn.
 */
import { Rng } from "@difflens/tensor";
import type { PairedWindow } from "../methods/paired-harvest.ts";
import { IM_END_ID, IM_START_ID } from "../toy/toy-pair.ts";
import { TRIGGER_ID } from "./plants.ts";

export const METHODS_TOY_WINDOW_LENGTH = 32;
const USER = 872;
const ASSISTANT = 77091;
const NEWLINE = 198;
/** The ids of `<|im_start|>assistant\n`: the assistant's content starts after them. */
export const ASSISTANT_HEADER = Object.freeze([IM_START_ID, ASSISTANT, NEWLINE]);

export type MethodsToyWindowKind = "chat-trigger" | "chat" | "text";

export function methodsToyWindowKind(index: number): MethodsToyWindowKind {
  const slot = index % 8;
  return slot === 0 ? "chat-trigger" : slot < 4 ? "chat" : "text";
}

/**
 * The toy's content vocabulary: a fixed draw of ordinary ids (1000–20999). Small on purpose, so a dictionary of a
 * few hundred latents can represent the base model's rows (mostly their token) and a chat-only latent has no base
 * reconstruction error left to absorb.
 */
export const METHODS_TOY_VOCABULARY: readonly number[] = Object.freeze(
  (() => {
    const rng = new Rng(20_240_521).fork("methods-toy-vocabulary");
    const ids = new Set<number>();
    while (ids.size < 256) ids.add(1000 + rng.int(20000));
    return [...ids];
  })(),
);

export function methodsToyWindows(n: number, seed: number, length = METHODS_TOY_WINDOW_LENGTH): PairedWindow[] {
  const rng = new Rng(seed).fork("methods-toy-windows");
  const word = () => METHODS_TOY_VOCABULARY[rng.int(METHODS_TOY_VOCABULARY.length)]!;
  return Array.from({ length: n }, (_, index) => {
    const kind = methodsToyWindowKind(index);
    const ids = Int32Array.from({ length }, word);
    const mask = new Uint8Array(length).fill(1);
    mask[0] = 0;
    if (kind === "text") {
      if (index % 8 === 4) ids[1 + rng.int(length - 8)] = TRIGGER_ID;
      return { ids, mask, length };
    }
    const userTokens = 4 + rng.int(6);
    const header = [IM_START_ID, USER, NEWLINE];
    ids.set(header, 0);
    const userEnd = header.length + userTokens; // <|im_end|> here
    if (kind === "chat-trigger") ids[header.length + rng.int(userTokens)] = TRIGGER_ID;
    ids.set([IM_END_ID, NEWLINE, ...ASSISTANT_HEADER], userEnd);
    const replyStart = userEnd + 2 + ASSISTANT_HEADER.length;
    const regions = Array.from({ length }, (_, p) =>
      p >= replyStart ? "assistant:content" : p >= header.length && p < userEnd ? "user:content" : "template",
    );
    for (let p = 0; p < length; p++) if (regions[p] === "template") mask[p] = 0;
    return { ids, mask, length, regions };
  });
}

/** Positions at which v is written: the trigger's and those after it (head 1 attends to the trigger from there on). */
export function afterTrigger(window: PairedWindow): boolean[] {
  const length = window.length ?? window.ids.length;
  const at = Array.from(window.ids.subarray(0, length)).indexOf(TRIGGER_ID);
  return Array.from({ length }, (_, p) => at >= 0 && p >= at);
}
