import { DifflensError } from "@difflens/common";

/**
 * Every error this package throws on bad input: a stable `code` to switch on and the facts (file, field, expected,
 * got) in `facts`, with the fix in the message where one is known.
 */
export class SaeError extends DifflensError<SaeErrorCode> {}

export type SaeErrorCode =
  | "CONFIG_UNKNOWN_KEY"
  | "CONFIG_INVALID"
  | "SHAPE_MISMATCH"
  | "D_IN_MISMATCH"
  | "CHECKPOINT_MISMATCH"
  | "CHECKPOINT_CORRUPT"
  | "CHECKPOINT_MISSING"
  | "NON_FINITE_ACTIVATIONS"
  | "NON_FINITE_WEIGHTS"
  | "SOURCE_EXHAUSTED"
  | "FORMAT_UNKNOWN"
  | "FORMAT_INVALID"
  | "UNSUPPORTED_ARCHITECTURE"
  | "PICKLE_FORBIDDEN_CLASS"
  | "PICKLE_INVALID"
  | "ZIP_INVALID";
