import { DifflensError, type DifflensErrorOptions, type ErrorFacts } from "@difflens/common";

/** Stable codes for every failure the chat layer reports. */
export type ChatErrorCode =
  | "TEMPLATE_MISSING"
  | "TEMPLATE_SYNTAX"
  | "TEMPLATE_RAISED"
  | "TEMPLATE_RENDER_FAILED"
  | "TEMPLATE_TRANSFORMS_CONTENT"
  | "TEMPLATE_NOT_CHATML"
  | "UNKNOWN_ROLE"
  | "INVALID_MESSAGE"
  | "INVALID_CONDITION"
  | "INVALID_OPTION"
  | "CONDITION_CONFLICT"
  | "SPECIAL_NOT_SINGLE_TOKEN"
  | "PARTITION_VIOLATION";

/** Facts a person can act on. `line`/`column` are 1-based positions in the template source. */
export interface ChatErrorFacts extends ErrorFacts {
  file?: string;
  field?: string;
  expected?: string;
  got?: string;
  fix?: string;
  line?: number;
  column?: number;
  messageIndex?: number;
}

/**
 * The one error class of @difflens/chat; `code` is stable, the message is for people: `message` is the summary, and
 * the message read back also lists the facts (`CODE: summary — file: … — expected: …`).
 */
export class ChatError extends DifflensError<ChatErrorCode> {
  declare readonly facts: Readonly<ChatErrorFacts>;

  constructor(code: ChatErrorCode, message: string, facts: ChatErrorFacts = {}, options: DifflensErrorOptions = {}) {
    super(code, formatMessage(code, message, facts), facts, options);
  }
}

function formatMessage(code: string, summary: string, facts: ChatErrorFacts): string {
  const parts = [`${code}: ${summary}`];
  if (facts.file !== undefined) {
    const at = facts.line !== undefined ? `:${facts.line}:${facts.column ?? 1}` : "";
    parts.push(`file: ${facts.file}${at}`);
  } else if (facts.line !== undefined) {
    parts.push(`at line ${facts.line}, column ${facts.column ?? 1}`);
  }
  if (facts.messageIndex !== undefined) parts.push(`message: #${facts.messageIndex}`);
  if (facts.field !== undefined) parts.push(`field: ${facts.field}`);
  if (facts.expected !== undefined) parts.push(`expected: ${facts.expected}`);
  if (facts.got !== undefined) parts.push(`got: ${facts.got}`);
  if (facts.fix !== undefined) parts.push(`fix: ${facts.fix}`);
  return parts.join(" — ");
}
