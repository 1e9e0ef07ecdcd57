import { DifflensError, type DifflensErrorOptions, describeFacts, type ErrorFacts } from "@difflens/common";

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
export interface TokenizerErrorFacts extends ErrorFacts {
  file?: string;
  field?: string;
  expected?: string;
  got?: string;
  fix?: string;
}

/**
 * The one error class of @difflens/tokenizer; `code` is stable, the message is for people: `message` is the summary,
 * and the message read back also lists the facts (`CODE: summary — file: … — fix: …`).
 */
export class TokenizerError extends DifflensError<TokenizerErrorCode> {
  declare readonly facts: Readonly<TokenizerErrorFacts>;

  constructor(
    code: TokenizerErrorCode,
    message: string,
    facts: TokenizerErrorFacts = {},
    options: DifflensErrorOptions = {},
  ) {
    super(code, describeFacts(code, message, facts), facts, options);
  }
}
