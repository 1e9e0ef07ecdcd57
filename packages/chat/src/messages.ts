import { ChatError } from "./errors.ts";

/** One chat message. Extra fields (tool_calls, name, …) pass through to the template unchanged. */
export interface ChatMessage {
  role: string;
  content: string;
  [extra: string]: unknown;
}

/** Roles the ChatML templates know. */
export const DEFAULT_ROLES: readonly string[] = Object.freeze(["system", "user", "assistant", "tool"]);

/** Checks shape and roles; the error names the message index. */
export function validateMessages(messages: readonly ChatMessage[], roles: readonly string[] = DEFAULT_ROLES): void {
  if (!Array.isArray(messages)) {
    throw new ChatError("INVALID_MESSAGE", "messages must be an array", { got: typeof messages });
  }
  messages.forEach((m, i) => {
    if (m === null || typeof m !== "object") {
      throw new ChatError("INVALID_MESSAGE", "a message must be an object", {
        messageIndex: i,
        got: JSON.stringify(m),
      });
    }
    if (typeof m.role !== "string" || !roles.includes(m.role)) {
      throw new ChatError("UNKNOWN_ROLE", `unknown role ${JSON.stringify(m.role)}`, {
        messageIndex: i,
        field: "role",
        expected: roles.join(" | "),
        got: JSON.stringify(m.role),
        fix: "pass `roles` to allow it, if the template knows it",
      });
    }
    if (typeof m.content !== "string") {
      throw new ChatError("INVALID_MESSAGE", "message content must be a string", {
        messageIndex: i,
        field: "content",
        got: m.content === undefined ? "undefined" : typeof m.content,
      });
    }
  });
}
