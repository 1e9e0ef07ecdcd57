/** Stable codes a caller can switch on. */
export type PlotErrorCode =
  | "PLOT_UNKNOWN_KIND"
  | "PLOT_UNKNOWN_FIELD"
  | "PLOT_MISSING_FIELD"
  | "PLOT_INVALID_VALUE"
  | "PLOT_LENGTH_MISMATCH"
  | "PLOT_EMPTY_DATA"
  | "PLOT_NON_FINITE"
  | "PLOT_CONFLICTING_FIELDS"
  | "PLOT_RENDER_FAILED"
  | "PLOT_WRITE_FAILED";

/** The facts behind a PlotError: which field, what was expected, what was given, and the fix when known. */
export interface PlotErrorFacts {
  /** Dotted path of the offending field, e.g. `series[1].y`. */
  field?: string;
  expected?: string;
  got?: string;
  fix?: string;
}

/**
 * Every error this package throws on bad input or a failed export. The message is built from the facts so it
 * reads on its own: `PLOT_LENGTH_MISMATCH at series[1].y: expected 28 values (one per x), got 27`.
 */
export class PlotError extends Error {
  readonly code: PlotErrorCode;
  readonly field: string | undefined;
  readonly expected: string | undefined;
  readonly got: string | undefined;
  readonly fix: string | undefined;

  constructor(code: PlotErrorCode, what: string, facts: PlotErrorFacts = {}) {
    super(formatMessage(code, what, facts));
    this.name = "PlotError";
    this.code = code;
    this.field = facts.field;
    this.expected = facts.expected;
    this.got = facts.got;
    this.fix = facts.fix;
  }
}

function formatMessage(code: PlotErrorCode, what: string, facts: PlotErrorFacts): string {
  let message = `${code}${facts.field ? ` at ${facts.field}` : ""}: ${what}`;
  if (facts.expected !== undefined || facts.got !== undefined) {
    message += ` (expected ${facts.expected ?? "?"}, got ${facts.got ?? "?"})`;
  }
  if (facts.fix) message += `. ${facts.fix}`;
  return message;
}

/** A short, readable rendering of any value for error messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "undefined";
  if (value === null) return "null";
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}
