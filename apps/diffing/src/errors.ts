/** Stable codes of the diffing app's errors (tests and scripts match on these, not on messages). */
export type DiffingErrorCode =
  | "CONFIG_UNKNOWN_KEY"
  | "CONFIG_INVALID"
  | "CONFIG_NOT_FOUND"
  | "UNKNOWN_FLAG"
  | "UNKNOWN_COMMAND"
  | "BAD_FLAG_VALUE"
  | "PARENT_MISSING"
  | "PARENT_MISMATCH"
  | "ADAPTER_INVALID"
  | "DATA_EXHAUSTED"
  | "STAGE_MISSING";

/** Facts a person can act on: which file/field, what was expected, what came, and the fix when known. */
export interface DiffingErrorFacts {
  readonly file?: string;
  readonly field?: string;
  readonly expected?: unknown;
  readonly got?: unknown;
  readonly fix?: string;
  readonly suggestion?: string;
}

export class DiffingError extends Error {
  override readonly name = "DiffingError";
  constructor(readonly code: DiffingErrorCode, message: string, readonly facts: DiffingErrorFacts = {}) {
    super(facts.fix ? `${message}\n  fix: ${facts.fix}` : message);
  }
}
