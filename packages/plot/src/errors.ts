import { DifflensError, type DifflensErrorOptions, type ErrorFacts } from "@difflens/common";

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
export interface PlotErrorFacts extends ErrorFacts {
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
export class PlotError extends DifflensError<PlotErrorCode> {
  declare readonly facts: Readonly<PlotErrorFacts>;

  constructor(code: PlotErrorCode, message: string, facts: PlotErrorFacts = {}, options: DifflensErrorOptions = {}) {
    super(code, formatMessage(code, message, facts), facts, options);
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
