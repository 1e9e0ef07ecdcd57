import type { ChatTemplate } from "./chat-template.ts";
import type { SystemCondition } from "./conditions.ts";
import { ChatError } from "./errors.ts";
import { type ChatTurn, locateTurns, type Span, type TurnLayout, type TurnMarkers } from "./locate-turns.ts";
import { type ChatMessage, DEFAULT_ROLES, validateMessages } from "./messages.ts";
import { detectTurnMarkers } from "./turn-layouts.ts";

/** Options of `renderChat`. */
export interface RenderChatOptions {
  /** Append the header the assistant's reply follows (`<|im_start|>assistant\n`). Default false. */
  addGenerationPrompt?: boolean;
  /**
   * The system-prompt condition. When given, `messages` must not start with a system message (the condition
   * writes the system turn). When absent, messages are rendered as given.
   */
  condition?: SystemCondition;
  /** Roles accepted in messages. Default system, user, assistant, tool. */
  roles?: readonly string[];
  /** Turn layout. Default: detected from the template's source (Llama 3, Gemma, else ChatML; `detectTurnMarkers`). */
  markers?: TurnMarkers;
  /** Other template variables (`bos_token`, `tools`, `enable_thinking`, …). */
  extra?: Record<string, unknown>;
}

/** A rendered conversation and where everything in it lies (UTF-16 spans of `text`). */
export interface RenderedChat {
  text: string;
  /** The messages the template saw: the caller's, with the condition's system message first where it adds one. */
  messages: readonly ChatMessage[];
  /** Where each message's content lies in `text`, by message index (exact, proven by re-rendering). */
  contentSpans: readonly Span[];
  turns: readonly ChatTurn[];
  /** The trailing open turn written for `addGenerationPrompt`, or null. */
  generationPrompt: Span | null;
  condition: SystemCondition | null;
  addGenerationPrompt: boolean;
  markers: TurnMarkers;
  /**
   * What this template does that a reader of the regions must know, in words: a system prompt folded into a user
   * turn (Gemma), conditions that render alike because the template writes no default system turn, an assistant
   * header written without being asked for (Llama 3). Empty for ChatML templates.
   */
  notes: readonly string[];
}

/** The messages a condition gives the template. */
export function applyCondition(
  messages: readonly ChatMessage[],
  condition: SystemCondition | undefined,
): ChatMessage[] {
  if (condition === undefined) return [...messages];
  if (messages[0]?.role === "system") {
    throw new ChatError(
      "CONDITION_CONFLICT",
      "the messages already start with a system message and a condition was given",
      {
        messageIndex: 0,
        fix: "drop the system message (the condition writes the system turn), or omit `condition`",
      },
    );
  }
  switch (condition.kind) {
    case "model-default":
    case "no-system-turn":
      return [...messages];
    case "custom":
      return [{ role: "system", content: condition.text }, ...messages];
    case "empty":
      return [{ role: "system", content: "" }, ...messages];
  }
}

function sentinelChar(messages: readonly ChatMessage[], template: ChatTemplate): string {
  for (let code = 0xe000; code <= 0xf8ff; code++) {
    const c = String.fromCharCode(code);
    if (!template.source.includes(c) && !messages.some((m) => m.content.includes(c))) return c;
  }
  throw new ChatError("INVALID_MESSAGE", "the messages use every private-use character; no sentinel is free");
}

/**
 * Renders a conversation and locates every message's content in the result. Method: render once with each
 * content replaced by a unique sentinel (a private-use character, the message index, the character again), so
 * the template's own text and the slots are told apart without searching user text; splice the real contents into
 * the slots, computing their spans; then render the real messages and require the two strings to be identical.
 * Equality proves the spans; a template that rewrites content (strip, split) fails loudly instead of misplacing.
 * Turns are then found from markers in template-written text only (see `locateTurns`).
 */
export function renderChat(
  template: ChatTemplate,
  messages: readonly ChatMessage[],
  options: RenderChatOptions = {},
): RenderedChat {
  validateMessages(messages, options.roles ?? DEFAULT_ROLES);
  const addGenerationPrompt = options.addGenerationPrompt ?? false;
  const markers = options.markers ?? detectTurnMarkers(template.source);
  const templateMessages = applyCondition(messages, options.condition);
  // transformers passes the tokenizer's bos_token to every template; the layout knows it, `extra` overrides.
  const extra = { ...(markers.bosToken === undefined ? {} : { bos_token: markers.bosToken }), ...options.extra };

  const mark = sentinelChar(templateMessages, template);
  const withSentinels = templateMessages.map((m, i) => ({ ...m, content: `${mark}${i}${mark}` }));
  const skeleton = template.render({ messages: withSentinels, addGenerationPrompt, extra });
  const slot = new RegExp(`${mark}(\\d+)${mark}`, "g");
  const contentSpans: Array<Span | undefined> = new Array(templateMessages.length);
  let built = "";
  let last = 0;
  for (const match of skeleton.matchAll(slot)) {
    const m = Number(match[1]);
    const message = templateMessages[m];
    if (message === undefined || contentSpans[m] !== undefined) {
      throw new ChatError("TEMPLATE_TRANSFORMS_CONTENT", "the template writes a message's content more than once", {
        file: template.file,
        messageIndex: m,
      });
    }
    built += skeleton.slice(last, match.index);
    contentSpans[m] = { start: built.length, end: built.length + message.content.length };
    built += message.content;
    last = match.index + match[0].length;
  }
  built += skeleton.slice(last);
  // biome-ignore lint/complexity/useIndexOf: the array may have holes, which indexOf skips and findIndex visits
  const missing = contentSpans.findIndex((s) => s === undefined);
  if (missing >= 0) {
    throw new ChatError("TEMPLATE_TRANSFORMS_CONTENT", "the template does not write this message's content verbatim", {
      file: template.file,
      messageIndex: missing,
      fix: "regions need templates that copy content as is (no strip/split on it)",
    });
  }
  const text = template.render({ messages: templateMessages, addGenerationPrompt, extra });
  if (text !== built) {
    let at = 0;
    while (at < text.length && text[at] === built[at]) at++;
    throw new ChatError("TEMPLATE_TRANSFORMS_CONTENT", "the template's output depends on content beyond copying it", {
      file: template.file,
      expected: JSON.stringify(built.slice(Math.max(0, at - 20), at + 40)),
      got: JSON.stringify(text.slice(Math.max(0, at - 20), at + 40)),
      fix: "regions need templates that copy content as is (no strip/split/branch on it)",
    });
  }
  const spans = contentSpans as Span[];
  const layout = locateTurns(text, spans, markers, addGenerationPrompt);
  const rendered: RenderedChat = {
    text,
    messages: templateMessages,
    contentSpans: spans,
    turns: layout.turns,
    generationPrompt: layout.generationPrompt,
    condition: options.condition ?? null,
    addGenerationPrompt,
    markers,
    notes: [],
  };
  if (options.condition?.kind === "no-system-turn") return withoutInsertedSystemTurns(rendered, layout);
  return { ...rendered, notes: notesOf(rendered, layout, writesDefaultSystem(rendered)) };
}

/** Whether the template wrote a system turn by itself (under model-default and no-system-turn, any system turn). */
function writesDefaultSystem(rendered: RenderedChat): boolean {
  return rendered.turns.some((t) => t.inserted && t.role === "system");
}

/** The notes of a rendered chat (see `RenderedChat.notes`). */
function notesOf(rendered: RenderedChat, layout: TurnLayout, templateWritesSystem: boolean): string[] {
  const notes: string[] = [];
  rendered.messages.forEach((message, m) => {
    const turn = rendered.turns.find((t) => t.messageIndices.includes(m));
    if (message.role === "system" && turn !== undefined && turn.role !== "system") {
      notes.push(
        `the template has no system role: system message #${m}${message.content === "" ? " (empty)" : ""} is written inside the ${turn.headerRole} turn #${turn.index} (region ${turn.headerRole}[…].folded-system)`,
      );
    }
  });
  const kind = rendered.condition?.kind;
  if ((kind === "model-default" || kind === "no-system-turn") && !templateWritesSystem) {
    notes.push(
      "the template writes no default system prompt: conditions model-default and no-system-turn render the same chat",
    );
  }
  if (layout.unaskedGenerationPrompt) {
    notes.push(
      "the template writes the assistant header even without add_generation_prompt; it is the generation-prompt region",
    );
  }
  return notes;
}

/**
 * Cuts the system turns the template inserted by itself, shifting every later span: condition no-system-turn.
 * With none to cut, it is the model-default rendering.
 */
function withoutInsertedSystemTurns(rendered: RenderedChat, layout: TurnLayout): RenderedChat {
  const cuts = rendered.turns.filter((t) => t.inserted && t.role === "system").map((t) => t.span);
  if (cuts.length === 0) return { ...rendered, notes: notesOf(rendered, layout, false) };
  const shift = (p: number) => p - cuts.reduce((acc, c) => acc + (c.end <= p ? c.end - c.start : 0), 0);
  let text = "";
  let last = 0;
  for (const c of cuts) {
    text += rendered.text.slice(last, c.start);
    last = c.end;
  }
  text += rendered.text.slice(last);
  const contentSpans = rendered.contentSpans.map((s) => ({ start: shift(s.start), end: shift(s.end) }));
  const cutLayout = locateTurns(text, contentSpans, rendered.markers, rendered.addGenerationPrompt);
  const cut = { ...rendered, text, contentSpans, turns: cutLayout.turns, generationPrompt: cutLayout.generationPrompt };
  return { ...cut, notes: notesOf(cut, cutLayout, true) };
}
