// Types shared by the dashboard's server (Node) and its web client (browser). No imports with runtime effect:
// the client bundles this file too.

/** A problem with one file of a run folder, shown as an error panel; the rest of the site keeps working. */
export interface ErrorPanel {
  /** Path of the file or folder, relative to the run folder (forward slashes). */
  file: string;
  /** The field or part of the file, when known (e.g. "latents[3].base"). */
  field?: string;
  /** What went wrong and what was expected, one or two sentences. */
  message: string;
}

/** The kinds of run folder the dashboard knows; anything else with a run.json is "unknown" (listed, raw files). */
export type RunKind =
  | "diffing"
  | "readouts-sae-conditions"
  | "readouts-attention-marker"
  | "readouts-steer"
  | "readouts-follow-up"
  | "unknown";

/** One run folder in the run list. */
export interface RunSummary {
  /** Stable id: the run folder's path relative to the served root, forward slashes; "." when the root is the run. */
  id: string;
  kind: RunKind;
  /** run.json `format` (e.g. "difflens-diffing-run"). */
  format: string;
  /** config.name, or the folder name. */
  name: string;
  createdAt: string | null;
  updatedAt: string | null;
  /** A few config facts worth a column (hook, models, dSae, seed, conditions…), already formatted as text. */
  facts: Record<string, string>;
  /** Where it came from: parent runs, stage parents, models (as text, relative paths kept as written). */
  lineage: string[];
  errors: ErrorPanel[];
}

export interface RunListResponse {
  /** Display name of the served folder (its basename, never an absolute path). */
  root: string;
  runs: RunSummary[];
  /** Whether the server can run models live (false in a static export or with --no-live). */
  live: boolean;
}

/** A figure file written by @difflens/plot (`figureJson`): kind, titles and the data rows, rendered in the page. */
export interface FigureData {
  /** Path of the JSON relative to the run folder, e.g. "figures/gates.json". */
  file: string;
  kind: "heatmap" | "lines" | "scatter" | "bars" | "histogram";
  title: string | null;
  subtitle: string | null;
  note: string | null;
  xTitle: string | null;
  yTitle: string | null;
  rows: Record<string, unknown>[];
  /** The PNG beside it, relative to the run folder, when present (a fallback image and a download link). */
  png: string | null;
}
