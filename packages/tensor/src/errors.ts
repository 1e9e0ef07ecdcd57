/**
 * Base class of every error this package throws on bad input: a stable `code` a caller can switch on,
 * and a message that states the facts (what was expected, what was given, the fix when known).
 */
export class TensorError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "TensorError";
    this.code = code;
  }
}
