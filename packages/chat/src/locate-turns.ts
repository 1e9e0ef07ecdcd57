import { ChatError } from "./errors.ts";

/** [start, end) in UTF-16 units of the rendered string. */
export interface Span {
  start: number;
  end: number;
}

/**
 * How a template writes a turn: the strings that open and close it, and optionally where its header ends, what its
 * header's role names mean, the template variables transformers would pass, and segmentation B's specials. ChatML
 * (Qwen, many others) by default; `turn-layouts.ts` has Llama 3's and Gemma's.
 */
export interface TurnMarkers {
  turnStart: string;
  turnEnd: string;
  /** The string that closes the header (Llama 3: `<|end_header_id|>\n\n`). Default: the first newline. */
  headerEnd?: string;
  /** Header role → message role (Gemma writes "model" for assistant). Default: the header's text as is. */
  roleNames?: Readonly<Record<string, string>>;
  /** `bos_token` for templates that write it (transformers passes the tokenizer's); `extra` overrides. */
  bosToken?: string;
  /** Segmentation B's default specials for this layout. Default `DEFAULT_SPECIALS` (ChatML's). */
  specials?: readonly string[];
}

export const CHATML_MARKERS: TurnMarkers = Object.freeze({ turnStart: "<|im_start|>", turnEnd: "<|im_end|>" });

/** One `<|im_start|>role\n … <|im_end|>\n` block of the rendered string. */
export interface ChatTurn {
  /** Position among turns, in text order. */
  index: number;
  /**
   * The role its header names (e.g. "system"; for tool responses Qwen writes "user"), through the layout's
   * `roleNames` (Gemma's "model" is "assistant"). `headerRole` is the header's own text.
   */
  role: string;
  headerRole: string;
  /** Messages whose content lies in this turn (usually one; consecutive tool responses can share a turn). */
  messageIndices: number[];
  /** True when the template wrote this turn by itself (Qwen's default system turn): no message's content is in it. */
  inserted: boolean;
  /** From the turn-start marker through the turn-end marker and the newline after it. */
  span: Span;
  /** The role name and the newline after it. */
  header: Span;
  /**
   * The content: for a message turn, from the first message's content start to the last one's end (equal to that
   * message's content span for ChatML); for an inserted turn, from the header's end to the turn-end marker.
   */
  content: Span;
  /** Where the turn-end marker starts, or null when the turn is left open. */
  turnEndAt: number | null;
}

/** The chat's layout: its turns, the open generation prompt at the end, and the text outside every turn. */
export interface TurnLayout {
  turns: ChatTurn[];
  generationPrompt: Span | null;
  /** True when the template wrote an open assistant header though no generation prompt was asked for (Llama 3's). */
  unaskedGenerationPrompt: boolean;
}

function structuralOccurrences(text: string, marker: string, isContent: Uint8Array): number[] {
  const found: number[] = [];
  for (let at = text.indexOf(marker); at >= 0; at = text.indexOf(marker, at + 1)) {
    let structural = true;
    for (let k = at; k < at + marker.length; k++) if (isContent[k] === 1) structural = false;
    if (structural) found.push(at);
  }
  return found;
}

/**
 * Finds the turns of a rendered chat from where each message's content lies (`contentSpans`, exact). Markers are
 * searched only in text the template wrote, never inside content, so a message containing a literal `<|im_end|>`
 * does not end its turn. An open turn at the end is the generation prompt when one was asked for.
 */
export function locateTurns(
  text: string,
  contentSpans: readonly Span[],
  markers: TurnMarkers,
  addGenerationPrompt: boolean,
): TurnLayout {
  const isContent = new Uint8Array(text.length);
  for (const c of contentSpans) isContent.fill(1, c.start, c.end);
  const starts = structuralOccurrences(text, markers.turnStart, isContent);
  const ends = structuralOccurrences(text, markers.turnEnd, isContent);
  if (starts.length === 0) {
    throw new ChatError(
      "TEMPLATE_NOT_CHATML",
      `the rendered chat has no ${markers.turnStart} written by the template`,
      {
        expected: `turns written as ${markers.turnStart}role\\n…${markers.turnEnd}`,
        got: JSON.stringify(text.slice(0, 80)),
        fix: "pass the template's own turn markers (markers option)",
      },
    );
  }
  const turns: ChatTurn[] = [];
  let generationPrompt: Span | null = null;
  let unaskedGenerationPrompt = false;
  let endCursor = 0;
  for (let t = 0; t < starts.length; t++) {
    const start = starts[t] as number;
    const nextStart = starts[t + 1] ?? text.length;
    while (endCursor < ends.length && (ends[endCursor] as number) < start) endCursor++;
    const endAt =
      endCursor < ends.length && (ends[endCursor] as number) < nextStart ? (ends[endCursor] as number) : null;
    let spanEnd: number;
    if (endAt === null) {
      spanEnd = nextStart;
    } else {
      spanEnd = endAt + markers.turnEnd.length;
      if (text[spanEnd] === "\n" && isContent[spanEnd] !== 1) spanEnd++;
    }
    const headerStart = start + markers.turnStart.length;
    const limit = endAt ?? spanEnd;
    const { headerEnd, headerRole } = readHeader(text, isContent, headerStart, limit, markers.headerEnd);
    const role = markers.roleNames?.[headerRole] ?? headerRole;
    if (endAt === null && t === starts.length - 1) {
      // An open last turn holding no content is the generation prompt — also when the template writes it unasked.
      if (addGenerationPrompt || !isContent.subarray(start).includes(1)) {
        generationPrompt = { start, end: text.length };
        unaskedGenerationPrompt = !addGenerationPrompt;
        continue;
      }
    }
    turns.push({
      index: turns.length,
      role,
      headerRole,
      messageIndices: [],
      inserted: true,
      span: { start, end: spanEnd },
      header: { start: headerStart, end: headerEnd },
      content: { start: headerEnd, end: endAt ?? spanEnd },
      turnEndAt: endAt,
    });
  }
  contentSpans.forEach((c, m) => {
    const turn = turns.find((t) => t.span.start <= c.start && c.end <= t.span.end && c.start < t.span.end);
    if (turn === undefined) {
      throw new ChatError("TEMPLATE_NOT_CHATML", "a message's content lies outside every turn of the rendered chat", {
        messageIndex: m,
        expected: `content between ${markers.turnStart}role\\n and ${markers.turnEnd}`,
        got: JSON.stringify(text.slice(Math.max(0, c.start - 20), c.end + 20)),
      });
    }
    if (turn.inserted) {
      turn.inserted = false;
      turn.content = { start: c.start, end: c.end };
    } else {
      turn.content = { start: Math.min(turn.content.start, c.start), end: Math.max(turn.content.end, c.end) };
    }
    turn.messageIndices.push(m);
  });
  return { turns, generationPrompt, unaskedGenerationPrompt };
}

/**
 * The header after the turn-start marker: up to and including `headerEnd` when the layout has one (Llama 3's
 * `<|end_header_id|>\n\n`), else up to and including the first newline. Never reads into content.
 */
function readHeader(
  text: string,
  isContent: Uint8Array,
  headerStart: number,
  limit: number,
  headerEndMarker: string | undefined,
): { headerEnd: number; headerRole: string } {
  if (headerEndMarker !== undefined) {
    const at = text.indexOf(headerEndMarker, headerStart);
    if (at >= 0 && at + headerEndMarker.length <= limit && !isContent.subarray(headerStart, at).includes(1)) {
      return { headerEnd: at + headerEndMarker.length, headerRole: text.slice(headerStart, at).trim() };
    }
  }
  let headerEnd = headerStart;
  while (headerEnd < limit && isContent[headerEnd] !== 1 && text[headerEnd] !== "\n") headerEnd++;
  const headerRole = text.slice(headerStart, headerEnd).trim();
  if (headerEnd < limit && text[headerEnd] === "\n" && isContent[headerEnd] !== 1) headerEnd++;
  return { headerEnd, headerRole };
}
