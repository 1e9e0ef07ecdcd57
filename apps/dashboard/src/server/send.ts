/**
 * Writing responses: JSON with `Cache-Control: no-store`, the one error body `{ error: { code, message, file?, field? } }`,
 * and files streamed with their content type. HEAD gets the same headers and no body.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import * as path from "node:path";
import { isDifflensError } from "@difflens/common";
import { DashboardError, HTTP_STATUS } from "../errors.ts";

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".jsonl": "application/x-ndjson; charset=utf-8",
  ".csv": "text/csv; charset=utf-8",
  ".md": "text/markdown; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".pdf": "application/pdf",
  ".woff2": "font/woff2",
};

export function contentTypeOf(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? "application/octet-stream";
}

const COMMON_HEADERS = { "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer" };

export function sendJson(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  body: unknown,
  extra: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...COMMON_HEADERS,
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": "no-store",
    ...extra,
  });
  res.end(req.method === "HEAD" ? undefined : text);
}

export function sendText(
  req: IncomingMessage,
  res: ServerResponse,
  contentType: string,
  text: string,
  cache = "no-store",
): void {
  res.writeHead(200, {
    ...COMMON_HEADERS,
    "Content-Type": contentType,
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": cache,
  });
  res.end(req.method === "HEAD" ? undefined : text);
}

/**
 * Streams a file already resolved and checked by the caller. `sandboxed`: files from run folders (an SVG or HTML
 * written by a command) may not run scripts or reach anything else under the dashboard's origin.
 */
export async function sendFile(
  req: IncomingMessage,
  res: ServerResponse,
  file: string,
  options: { sandboxed: boolean; cache?: string },
): Promise<void> {
  const info = await stat(file);
  const type = contentTypeOf(file);
  const headers: Record<string, string | number> = {
    ...COMMON_HEADERS,
    "Content-Type": type,
    "Content-Length": info.size,
    "Cache-Control": options.cache ?? "no-store",
  };
  if (options.sandboxed) {
    headers["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'";
    if (type === "application/octet-stream")
      headers["Content-Disposition"] = `attachment; filename="${asciiName(file)}"`;
  }
  res.writeHead(200, headers);
  if (req.method === "HEAD") {
    res.end();
    return;
  }
  await new Promise<void>((resolve) => {
    const stream = createReadStream(file);
    stream.on("error", () => {
      res.destroy(); // headers are out: all we can do is cut the response
      resolve();
    });
    stream.on("end", resolve);
    res.on("close", () => {
      stream.destroy();
      resolve();
    });
    stream.pipe(res);
  });
}

/** The error as the API's error body. DashboardErrors keep their code and facts; anything else is a logged 500. */
export function sendError(
  req: IncomingMessage,
  res: ServerResponse,
  error: unknown,
  log: (line: string) => void,
  extra: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const { status, body } = errorBody(error, log);
  sendJson(req, res, status, body, extra);
}

export function errorBody(
  error: unknown,
  log: (line: string) => void,
): { status: number; body: { error: Record<string, string> } } {
  if (error instanceof DashboardError || (isDifflensError(error) && error.code in HTTP_STATUS)) {
    const e = error as DashboardError;
    const body: Record<string, string> = { code: e.code, message: e.message };
    if (typeof e.facts.file === "string") body["file"] = e.facts.file;
    if (typeof e.facts.field === "string") body["field"] = e.facts.field;
    return { status: HTTP_STATUS[e.code], body: { error: body } };
  }
  const err = error as Error;
  if (isDifflensError(error)) {
    // Another package's error names its file and what was expected: worth showing, but it is still a server failure.
    log(`dashboard: ${error.code}: ${error.message}`);
    return { status: 500, body: { error: { code: error.code, message: error.message } } };
  }
  log(`dashboard: internal error: ${err?.stack ?? String(error)}`);
  return { status: 500, body: { error: { code: "INTERNAL", message: "internal error (see the server's log)" } } };
}

function asciiName(file: string): string {
  return path.basename(file).replace(/[^A-Za-z0-9._-]/g, "_");
}
