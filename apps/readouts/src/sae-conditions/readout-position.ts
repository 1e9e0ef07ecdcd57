/**
 * Where in a chat the residual stream is read: one token (`last-prompt-token`, `last-system-token`) or every token of
 * a region (`mean:<region>`, `all:<region>`), regions named `<role>:<kind>` as @difflens/chat's `findRegions` knows
 * them (`user:content`, `system:content`, `assistant:header`) or `generation-prompt`.
 */
import { type ChatTokens, findRegions, lastPromptToken, lastSystemContentToken, type RegionKind } from "@difflens/chat";
import { ReadoutsError } from "../errors.ts";

export type ReadoutPosition =
  | { readonly kind: "last-prompt-token" }
  | { readonly kind: "last-system-token" }
  | { readonly kind: "mean" | "all"; readonly region: RegionName };

export interface RegionName {
  readonly role: string | null;
  readonly regionKind: RegionKind;
}

const REGION_KINDS: readonly RegionKind[] = ["header", "content", "structural", "generation-prompt", "outside"];
export const POSITION_FORMS = ["last-prompt-token", "last-system-token", "mean:<role>:<kind>", "all:<role>:<kind>"];

/** Parses a position string of the config; `field` names it in errors. */
export function parseReadoutPosition(text: string, field = "position"): ReadoutPosition {
  if (text === "last-prompt-token" || text === "last-system-token") return { kind: text };
  const match = /^(mean|all):(.+)$/.exec(text);
  const region = match ? parseRegion(match[2]!) : null;
  if (match && region) return { kind: match[1] as "mean" | "all", region };
  const expected = `${POSITION_FORMS.join(" | ")} (kind: ${REGION_KINDS.join(", ")}; or mean:generation-prompt)`;
  throw new ReadoutsError("CONFIG_INVALID", `${field}: expected ${expected}, got ${JSON.stringify(text)}`, {
    field,
    expected,
    got: text,
  });
}

function parseRegion(text: string): RegionName | null {
  if (text === "generation-prompt") return { role: null, regionKind: "generation-prompt" };
  const parts = text.split(":");
  if (parts.length !== 2 || parts[0] === "") return null;
  const kind = parts[1] as RegionKind;
  return REGION_KINDS.includes(kind) ? { role: parts[0]!, regionKind: kind } : null;
}

export function formatReadoutPosition(p: ReadoutPosition): string {
  if (p.kind === "last-prompt-token" || p.kind === "last-system-token") return p.kind;
  const region = p.region.role === null ? p.region.regionKind : `${p.region.role}:${p.region.regionKind}`;
  return `${p.kind}:${region}`;
}

/** True when a prompt's readout is several tokens (per-prompt value = mean over them). */
export function isRegionReadout(p: ReadoutPosition): p is Extract<ReadoutPosition, { kind: "mean" | "all" }> {
  return p.kind === "mean" || p.kind === "all";
}

export interface ResolvedPositions {
  /** Token positions read, increasing. */
  readonly positions: number[];
  /** Why a fallback was used (last-system-token of a condition without system content), else null. */
  readonly fallback: string | null;
}

/**
 * The token positions `p` reads in one tokenized chat. `last-system-token` of a condition whose system turn has no
 * content token (empty, no-system-turn) falls back to the last token before the first user turn (position 0 when
 * none precedes it): neither sees the prompt. A region with no token is an error naming the condition.
 */
export function resolvePositions(p: ReadoutPosition, chat: ChatTokens, conditionLabel: string): ResolvedPositions {
  if (p.kind === "last-prompt-token") return { positions: [lastPromptToken(chat)], fallback: null };
  if (p.kind === "last-system-token") {
    const t = lastSystemContentToken(chat);
    if (t !== null) return { positions: [t], fallback: null };
    const user = findRegions(chat, { role: "user" })
      .flatMap((r) => Array.from(r.positions))
      .sort((a, b) => a - b)[0];
    const before = user === undefined ? 0 : Math.max(0, user - 1);
    return { positions: [before], fallback: "no system content token: the last token before the user turn" };
  }
  const query =
    p.region.role === null ? { kind: p.region.regionKind } : { kind: p.region.regionKind, role: p.region.role };
  const positions = findRegions(chat, query)
    .flatMap((r) => Array.from(r.positions))
    .sort((a, b) => a - b);
  if (positions.length === 0) {
    const name = formatReadoutPosition(p);
    throw new ReadoutsError(
      "INPUT_INVALID",
      `position: ${name} has no token under condition "${conditionLabel}"; expected a region every condition has`,
      { field: "position", expected: "a region present under every condition", got: name },
    );
  }
  return { positions, fallback: null };
}
