import { DifflensError } from "@difflens/common";

/** Stable codes of the dashboard's errors; each maps to one HTTP status (see `HTTP_STATUS`). */
export type DashboardErrorCode =
  /** A request the server will not answer: bad query, unknown route, wrong method. */
  | "BAD_REQUEST"
  /** A path outside the served folder (traversal, absolute path, symlink out). */
  | "FORBIDDEN"
  /** No such run, stage, latent or file. */
  | "NOT_FOUND"
  /** A run folder's file is missing a field, truncated or malformed: the page shows an error panel naming it. */
  | "RUN_FILE_INVALID"
  /** Live mode cannot run here (static export, --no-live, no model for that stage). */
  | "LIVE_UNAVAILABLE"
  /** A method the route does not answer (GET/HEAD routes, POST /api/live). */
  | "METHOD_NOT_ALLOWED"
  /** A request body over the server's limit (POST /api/live: 64 KiB). */
  | "TOO_LARGE";

/** The dashboard's error: a stable `code` and the facts (file, field, expected, got). */
export class DashboardError extends DifflensError<DashboardErrorCode> {}

export const HTTP_STATUS: Readonly<Record<DashboardErrorCode, number>> = {
  BAD_REQUEST: 400,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  RUN_FILE_INVALID: 422,
  LIVE_UNAVAILABLE: 503,
  METHOD_NOT_ALLOWED: 405,
  TOO_LARGE: 413,
};
