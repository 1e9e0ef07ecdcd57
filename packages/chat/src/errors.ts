import { DifflensError, type DifflensErrorOptions, describeFacts, type ErrorFacts } from "@difflens/common";

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
  // Chat's facts carry a template location: it goes where the file would, and the file gets the line and column.
  const extra: string[] = [];
  if (facts.file === undefined && facts.line !== undefined)
    extra.push(`at line ${facts.line}, column ${facts.column ?? 1}`);
  if (facts.messageIndex !== undefined) extra.push(`message: #${facts.messageIndex}`);
  const at = facts.file !== undefined && facts.line !== undefined ? `:${facts.line}:${facts.column ?? 1}` : "";
  return describeFacts(
    code,
    summary,
    { ...facts, ...(facts.file !== undefined ? { file: `${facts.file}${at}` } : {}) },
    extra,
  );
}
