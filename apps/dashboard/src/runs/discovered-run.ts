import type { ErrorPanel, RunKind } from "../api/run-types.ts";

/** A run folder found under the served root. */
export interface DiscoveredRun {
  /** Path relative to the served root, forward slashes; "." for the root itself. The only id the API accepts. */
  id: string;
  /** Absolute, real path of the run folder. */
  dir: string;
  kind: RunKind;
  /** The parsed run.json, or null when it could not be read (then `errors` says why). */
  runJson: Record<string, unknown> | null;
  errors: ErrorPanel[];
}
