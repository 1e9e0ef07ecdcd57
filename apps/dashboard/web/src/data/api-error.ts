import type { ErrorPanel } from "../../../src/api/run-types.ts";

/** A failed API request, from the server's `{ error: { code, message, file?, field? } }` body or the network. */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly file: string | undefined;
  readonly field: string | undefined;

  constructor(code: string, message: string, status: number, file?: string, field?: string) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.status = status;
    this.file = file;
    this.field = field;
  }

  /** The error as the page's error panel: the file it names (or the request) and the message. */
  toPanel(request: string): ErrorPanel {
    const panel: ErrorPanel = { file: this.file ?? request, message: `${this.message} (${this.code})` };
    if (this.field !== undefined) panel.field = this.field;
    return panel;
  }
}

/** Any thrown value as an ApiError, so pages render one kind of error panel. */
export function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ApiError("CLIENT_ERROR", message, 0);
}

/** Reads the server's error body; anything else (a proxy page, an empty body) becomes a generic HTTP error. */
export function errorFromBody(status: number, body: unknown): ApiError {
  const error = (body as { error?: Record<string, unknown> } | null)?.error;
  if (error && typeof error.code === "string" && typeof error.message === "string") {
    const text = (key: string) => (typeof error[key] === "string" ? (error[key] as string) : undefined);
    return new ApiError(error.code, error.message, status, text("file"), text("field"));
  }
  return new ApiError("HTTP_ERROR", `The server answered HTTP ${status} without an error body.`, status);
}
