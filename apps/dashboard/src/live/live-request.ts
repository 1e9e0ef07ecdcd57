/** The checks of a POST /api/live body (it arrives as untrusted JSON): every failure is BAD_REQUEST naming the field. */
import type { LiveRequest } from "../api/live-types.ts";
import { DashboardError } from "../errors.ts";
import { LIVE_MAX_TOKENS, type LiveInput } from "./live-tokens.ts";

export const LIVE_DEFAULT_TOP_K = 5;
export const LIVE_MAX_TOP_K = 32;
/** Longer text cannot fit LIVE_MAX_TOKENS tokens at any plausible rate; refused before it is tokenized. */
const MAX_CHARS = LIVE_MAX_TOKENS * 64;

export interface CheckedLiveRequest {
  readonly stage: string;
  readonly input: LiveInput;
  readonly topK: number;
}

export function checkLiveRequest(request: LiveRequest): CheckedLiveRequest {
  const body = request as unknown as Record<string, unknown>;
  if (body === null || typeof body !== "object" || Array.isArray(body))
    throw bad("body", "a JSON object { run, stage, text | chat, topK? }", body);
  if (typeof body.stage !== "string") throw bad("stage", "a stage name (S, D, M, DF, MF)", body.stage);
  const hasText = body.text !== undefined;
  const hasChat = body.chat !== undefined;
  if (hasText === hasChat) throw bad("text", "exactly one of text and chat", hasText ? "both" : "neither");
  let input: LiveInput;
  if (hasText) {
    if (typeof body.text !== "string") throw bad("text", "a string", body.text);
    input = { text: limited(body.text, "text") };
  } else {
    const chat = body.chat as Record<string, unknown> | null;
    if (chat === null || typeof chat !== "object" || Array.isArray(chat))
      throw bad("chat", "{ system: string | null, user: string }", chat);
    if (typeof chat.user !== "string") throw bad("chat.user", "a string", chat.user);
    const system = chat.system ?? null;
    if (system !== null && typeof system !== "string") throw bad("chat.system", "a string or null", system);
    input = {
      chat: { system: system === null ? null : limited(system, "chat.system"), user: limited(chat.user, "chat.user") },
    };
  }
  const topK = body.topK ?? LIVE_DEFAULT_TOP_K;
  if (typeof topK !== "number" || !Number.isInteger(topK) || topK < 1 || topK > LIVE_MAX_TOP_K)
    throw bad("topK", `an integer in [1, ${LIVE_MAX_TOP_K}]`, topK);
  return { stage: body.stage, input, topK };
}

function limited(text: string, field: string): string {
  if (text.length > MAX_CHARS) throw bad(field, `at most ${MAX_CHARS} characters`, `${text.length} characters`);
  return text;
}

function bad(field: string, expected: string, got: unknown): DashboardError {
  const shown = typeof got === "string" ? got : JSON.stringify(got)?.slice(0, 60);
  return new DashboardError("BAD_REQUEST", `live request: ${field} must be ${expected}`, {
    field,
    expected,
    got: shown ?? String(got),
  });
}
