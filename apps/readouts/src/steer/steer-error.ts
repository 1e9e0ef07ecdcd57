import { DifflensError } from "@difflens/common";

/** Stable codes of the steer command's errors; the config codes exit 2 (usage), the others 1. */
export type SteerErrorCode = "CONFIG_UNKNOWN_KEY" | "CONFIG_INVALID" | "CONFIG_NOT_FOUND" | "CHECK_FAILED";

/** A steer error: a stable `code` and the facts a person can act on (file, field, expected, got). */
export class SteerError extends DifflensError<SteerErrorCode> {}
