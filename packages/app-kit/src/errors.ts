import { DifflensError } from "@difflens/common";

/** Stable codes of app-kit's own errors (an app may throw its own class with the same codes: see `configFields`). */
export type AppKitErrorCode =
  | "CONFIG_INVALID"
  | "CONFIG_UNKNOWN_KEY"
  | "CONFIG_NOT_FOUND"
  | "RUN_RECORD_INVALID"
  | "PREFLIGHT_FAILED"
  | "MODEL_INVALID"
  | "DATA_INVALID"
  | "OUTPUT_NOT_WRITABLE"
  | "DISK_SPACE"
  | "OUTPUT_EXISTS";

export class AppKitError extends DifflensError<AppKitErrorCode> {}
