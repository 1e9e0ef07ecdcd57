import { DifflensError, type DifflensErrorOptions, describeFacts, type ErrorFacts } from "@difflens/common";

/** Stable codes for every failure this package reports. */
export type WandbErrorCode =
  | "API_KEY_MISSING"
  | "UNKNOWN_OPTION"
  | "INVALID_OPTION"
  | "INVALID_METRIC"
  | "STEP_NOT_INCREASING"
  | "CONFIG_NOT_SERIALISABLE"
  | "RUN_FINISHED"
  | "NOT_A_RUN_FOLDER"
  | "RUN_NOT_FOUND"
  | "RUN_FOLDER_CORRUPT"
  | "HTTP_FATAL"
  | "HTTP_RETRYABLE"
  | "GRAPHQL_ERROR"
  | "BAD_FILE_NAME";

/** The facts a person needs to act on an error. */
export interface WandbErrorFacts extends ErrorFacts {
  /** File or folder involved, if any. */
  file?: string;
  /** Option, metric key or field involved. */
  field?: string;
  expected?: string;
  got?: string;
  /** What to do about it, when known. */
  fix?: string;
}

/** Every error of @difflens/wandb: the message read back is `CODE: message — file: … — fix: …`. */
export class WandbError extends DifflensError<WandbErrorCode> {
  declare readonly facts: Readonly<WandbErrorFacts>;

  constructor(code: WandbErrorCode, message: string, facts: WandbErrorFacts = {}, options: DifflensErrorOptions = {}) {
    super(code, describeFacts(code, message, facts), facts, options);
  }
}

/** A network failure worth retrying (connection refused/reset, timeout, 408, 429, 5xx). Anything else
 * (a bad key, a damaged folder, a bug) is not: retrying it forever would hide it. */
export function isRetryable(error: unknown): boolean {
  return error instanceof WandbError && error.code === "HTTP_RETRYABLE";
}
