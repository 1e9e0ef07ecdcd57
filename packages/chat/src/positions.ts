import type { Region, RegionKind, Segmentation } from "./regions.ts";
import type { ChatTokens } from "./tokenize-chat.ts";

/** Filters for `findRegions`; every given field must match. */
export interface RegionQuery {
  kind?: RegionKind;
  role?: string;
  turnIndex?: number;
  inserted?: boolean;
  messageIndex?: number;
}

/** Regions matching a query, in order. Segmentation A unless `segmentation` says "B". */
export function findRegions(chat: ChatTokens, query: RegionQuery, segmentation: "A" | "B" = "A"): Region[] {
  const seg: Segmentation = segmentation === "A" ? chat.segmentationA : chat.segmentationB;
  return seg.regions.filter(
    (r) =>
      (query.kind === undefined || r.kind === query.kind) &&
      (query.role === undefined || r.role === query.role) &&
      (query.turnIndex === undefined || r.turnIndex === query.turnIndex) &&
      (query.inserted === undefined || r.inserted === query.inserted) &&
      (query.messageIndex === undefined || r.messageIndex === query.messageIndex),
  );
}

/**
 * The last token of the first system turn's content — the template's own default turn included (it is flagged
 * `inserted`). Null when there is no system turn (no-system-turn) or its content has no token (empty condition).
 */
export function lastSystemContentToken(chat: ChatTokens, segmentation: "A" | "B" = "A"): number | null {
  const region = findRegions(chat, { kind: "content", role: "system" }, segmentation)[0];
  if (region === undefined || region.positions.length === 0) return null;
  return region.positions[region.positions.length - 1] as number;
}

/** The first token of the first assistant message's content, or null when the chat has no assistant message. */
export function firstAssistantToken(chat: ChatTokens): number | null {
  for (const r of findRegions(chat, { kind: "content", role: "assistant" })) {
    if (r.positions.length > 0) return r.positions[0] as number;
  }
  return null;
}

/** The last token of the prompt: where the model's next-token prediction for the reply is read. */
export function lastPromptToken(chat: ChatTokens): number {
  return chat.ids.length - 1;
}

/** Every position holding `tokenId`, increasing. */
export function positionsOfToken(chat: ChatTokens, tokenId: number): number[] {
  const out: number[] = [];
  chat.ids.forEach((id, t) => {
    if (id === tokenId) out.push(t);
  });
  return out;
}

/** Where one turn ends, in tokens. */
export interface TurnEnd {
  turnIndex: number;
  role: string;
  inserted: boolean;
  /** The token of the turn-end marker (`<|im_end|>`), or null for a turn left open. */
  endMarker: number | null;
  /** The last token of the turn (the newline after `<|im_end|>` for ChatML). */
  lastToken: number;
}

/** The end of each turn, in turn order. Turns with no token of their own are skipped. */
export function turnEnds(chat: ChatTokens): TurnEnd[] {
  const out: TurnEnd[] = [];
  for (const turn of chat.rendered.turns) {
    let endMarker: number | null = null;
    let lastToken = -1;
    chat.offsets.forEach(([start], t) => {
      if (start >= turn.span.start && start < turn.span.end) lastToken = t;
      if (turn.turnEndAt !== null && start === turn.turnEndAt) endMarker = t;
    });
    if (lastToken >= 0)
      out.push({ turnIndex: turn.index, role: turn.role, inserted: turn.inserted, endMarker, lastToken });
  }
  return out;
}
