import { DifflensError } from "@difflens/common";

/** Stable codes of app-kit's own errors (an app may throw its own class with the same codes: see `configFields`). */
export type AppKitErrorCode =
  | "CONFIG_INVALID"
  | "CONFIG_UNKNOWN_KEY"
  | "CONFIG_NOT_FOUND"
  | "RUN_RECORD_INVALID"
  | "OUTPUT_EXISTS";

export class AppKitError extends DifflensError<AppKitErrorCode> {}
