import { DifflensError } from "@difflens/common";

/** Stable codes of the readouts app's errors (tests and scripts match on these, not on messages). */
export type ReadoutsErrorCode =
  | "CONFIG_UNKNOWN_KEY"
  | "CONFIG_INVALID"
  | "CONFIG_NOT_FOUND"
  /** An input file or folder the config names is missing or malformed (prompts, scores, SAE, model): exit 2. */
  | "INPUT_INVALID"
  /** Attention fractions of a readout do not sum to 1 within the tolerance (attention-marker stage 2): exit 1. */
  | "PARTITION_VIOLATION"
  /** The force-feed comparator was not fed exactly the trained model's tokens and positions: exit 1. */
  | "FORCE_FEED_MISMATCH";

/** The app's error: a stable `code` and the facts a person can act on (file, field, expected, got). */
export class ReadoutsError extends DifflensError<ReadoutsErrorCode> {}

/** Codes answered with exit status 2: the input must change, nothing ran. */
export const READOUTS_USAGE_CODES: readonly string[] = ["INPUT_INVALID"];
