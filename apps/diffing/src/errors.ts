import { DifflensError } from "@difflens/common";

/** Stable codes of the diffing app's errors (tests and scripts match on these, not on messages). */
export type DiffingErrorCode =
  | "CONFIG_UNKNOWN_KEY"
  | "CONFIG_INVALID"
  | "CONFIG_NOT_FOUND"
  | "PARENT_MISSING"
  | "PARENT_MISMATCH"
  | "DATA_EXHAUSTED"
  | "STAGE_MISSING"
  | "FINGERPRINT_MISMATCH"
  | "METHODS_RUN_INVALID";

/** The app's error: a stable `code` and the facts a person can act on (file, field, expected, got, fix). */
export class DiffingError extends DifflensError<DiffingErrorCode> {}
