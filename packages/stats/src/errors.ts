/** Stable machine-readable codes for every error this package throws. */
export type StatsErrorCode =
  | "EMPTY_SAMPLE"
  | "SAMPLE_TOO_SMALL"
  | "NAN_IN_DATA"
  | "LENGTH_MISMATCH"
  | "INVALID_ARGUMENT"
  | "UNKNOWN_OPTION"
  | "DEGENERATE"
  | "NO_CONVERGENCE";

/** Facts attached to an error so a person (or a program) can act on it. */
export interface StatsErrorFacts {
  /** The function that rejected its input, e.g. "welchTTest". */
  readonly where: string;
  /** The argument or option at fault, e.g. "x" or "options.alternative". */
  readonly field?: string;
  /** What was expected, in words. */
  readonly expected?: string;
  /** What was received, in words. */
  readonly got?: string;
  /** How to fix it, when known. */
  readonly fix?: string;
}

/**
 * Every error thrown by @difflens/stats: a stable `code` plus the facts. The same public surface as the other
 * packages' `DifflensError` (`code`, `facts`, `name`, `cause`), without the dependency: stats stays dependency-free.
 */
export class StatsError extends Error {
  override readonly name = "StatsError";
  readonly code: StatsErrorCode;
  readonly facts: StatsErrorFacts;

  constructor(code: StatsErrorCode, facts: StatsErrorFacts, detail?: string, options: { cause?: unknown } = {}) {
    const parts = [`${facts.where}: ${detail ?? code}`];
    if (facts.field !== undefined) parts.push(`field ${facts.field}`);
    if (facts.expected !== undefined) parts.push(`expected ${facts.expected}`);
    if (facts.got !== undefined) parts.push(`got ${facts.got}`);
    let message = parts.join("; ");
    if (facts.fix !== undefined) message += ` — ${facts.fix}`;
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.facts = Object.freeze({ ...facts });
  }
}

/** Short description of a value for error messages. */
export function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return `array of length ${value.length}`;
  if (ArrayBuffer.isView(value))
    return `${value.constructor.name} of length ${(value as unknown as ArrayLike<unknown>).length}`;
  return typeof value;
}
