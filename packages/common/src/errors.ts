/**
 * The one error base of difflens. Every package's error class extends it, so a caller can switch on a stable,
 * typed `code` and read the facts a person can act on (file, field, expected, got, fix) without parsing messages.
 */

/** Facts a person can act on. Packages may add their own keys (tensor, hook, layer…). */
export interface ErrorFacts {
  readonly file?: string;
  readonly field?: string;
  readonly expected?: unknown;
  readonly got?: unknown;
  readonly fix?: string;
  readonly suggestion?: string;
  readonly [key: string]: unknown;
}

export interface DifflensErrorOptions {
  /** The lower-level error this one explains (kept as `cause`, shown by Node's inspector). */
  readonly cause?: unknown;
}

export class DifflensError<Code extends string = string> extends Error {
  /** Stable, machine-readable: tests and scripts match on this, never on the message. */
  readonly code: Code;
  readonly facts: Readonly<ErrorFacts>;

  constructor(code: Code, message: string, facts: ErrorFacts = {}, options: DifflensErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.facts = Object.freeze({ ...facts });
  }
}

/** True for any difflens error (across package copies too: checks the shape, not only the prototype chain). */
export function isDifflensError(value: unknown): value is DifflensError {
  return (
    value instanceof DifflensError ||
    (value instanceof Error && typeof (value as { code?: unknown }).code === "string" && "facts" in value)
  );
}

/**
 * `CODE: summary — file: … — field: … — expected: … — got: … — fix: …`: the one way a message lists its facts, for
 * packages whose messages read back every fact. `location` replaces the plain `file: …` part (e.g. `file: t.jinja:3:7`).
 */
export function describeFacts(code: string, summary: string, facts: ErrorFacts, extra: readonly string[] = []): string {
  const parts = [`${code}: ${summary}`];
  if (facts.file !== undefined) parts.push(`file: ${facts.file}`);
  parts.push(...extra);
  if (facts.field !== undefined) parts.push(`field: ${facts.field}`);
  if (facts.expected !== undefined) parts.push(`expected: ${String(facts.expected)}`);
  if (facts.got !== undefined) parts.push(`got: ${String(facts.got)}`);
  if (facts.fix !== undefined) parts.push(`fix: ${facts.fix}`);
  return parts.join(" — ");
}
