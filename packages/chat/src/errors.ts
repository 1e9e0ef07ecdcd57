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
export interface ChatErrorFacts {
  file?: string;
  field?: string;
  expected?: string;
  got?: string;
  fix?: string;
  line?: number;
  column?: number;
  messageIndex?: number;
}

/** The one error class of @difflens/chat; `code` is stable, the message is for people. */
export class ChatError extends Error {
  readonly code: ChatErrorCode;
  readonly facts: ChatErrorFacts;

  constructor(code: ChatErrorCode, summary: string, facts: ChatErrorFacts = {}, options?: { cause?: unknown }) {
    super(formatMessage(code, summary, facts), options);
    this.name = "ChatError";
    this.code = code;
    this.facts = facts;
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
