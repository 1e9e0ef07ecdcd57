/** Stable codes for every failure the tokenizer layer reports. */
export type TokenizerErrorCode =
  | "TOKENIZER_FILE_MISSING"
  | "TOKENIZER_FILE_MALFORMED"
  | "TOKENIZER_REJECTED"
  | "HUB_SNAPSHOT_NOT_FOUND"
  | "TOKEN_ID_OUT_OF_RANGE"
  | "UNKNOWN_SPECIAL_TOKEN"
  | "INVALID_OPTION";

/** Facts a person can act on: which file, which field, what was expected, what we got, how to fix it. */
export interface TokenizerErrorFacts {
  file?: string;
  field?: string;
  expected?: string;
  got?: string;
  fix?: string;
}

/** The one error class of @difflens/tokenizer; `code` is stable, the message is for people. */
export class TokenizerError extends Error {
  readonly code: TokenizerErrorCode;
  readonly facts: TokenizerErrorFacts;

  constructor(code: TokenizerErrorCode, summary: string, facts: TokenizerErrorFacts = {}, options?: { cause?: unknown }) {
    super(formatMessage(code, summary, facts), options);
    this.name = "TokenizerError";
    this.code = code;
    this.facts = facts;
  }
}

function formatMessage(code: string, summary: string, facts: TokenizerErrorFacts): string {
  const parts = [`${code}: ${summary}`];
  if (facts.file !== undefined) parts.push(`file: ${facts.file}`);
  if (facts.field !== undefined) parts.push(`field: ${facts.field}`);
  if (facts.expected !== undefined) parts.push(`expected: ${facts.expected}`);
  if (facts.got !== undefined) parts.push(`got: ${facts.got}`);
  if (facts.fix !== undefined) parts.push(`fix: ${facts.fix}`);
  return parts.join(" — ");
}
