import { parseWandbJson } from "../../src/wandb-json.ts";
import type { RecordedRequest } from "./fake-wandb-server.ts";

/** A value's JSON shape: objects keep their keys, arrays their element shape, scalars become their type. */
export function shapeOf(value: unknown): unknown {
  if (value === null) return "null";
  if (Array.isArray(value)) {
    const shapes = [...new Set(value.map((v) => JSON.stringify(shapeOf(v))))].map((s) => JSON.parse(s) as unknown);
    return shapes.length === 0 ? [] : shapes.length === 1 ? [shapes[0]] : shapes;
  }
  if (typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = shapeOf((value as Record<string, unknown>)[key]);
    return out;
  }
  return typeof value;
}

/** Transcript with volatile values reduced, and history/summary lines parsed so their keys show. */
export function normaliseTranscript(requests: readonly RecordedRequest[]): unknown[] {
  return requests.map((r) => {
    let body = r.body as Record<string, unknown> | null;
    if (r.kind === "file_stream" && body !== null && typeof body["files"] === "object") {
      const files: Record<string, unknown> = {};
      for (const [name, chunk] of Object.entries(
        body["files"] as Record<string, { offset: number; content: string[] }>,
      )) {
        files[name] = {
          offset: chunk.offset,
          content: chunk.content.map((line) => redactVolatile(parseWandbJson(line))),
        };
      }
      body = { ...body, files };
    }
    if (r.kind !== "file_stream" && r.kind !== "upload" && body !== null) {
      const { query, ...rest } = body;
      body = { ...rest, query: typeof query === "string" ? query.replace(/\s+/g, " ").trim() : query };
    }
    return {
      method: r.method,
      path: r.path.replace(/\/files\/[^/]+\/[^/]+\/[^/]+\//, "/files/{entity}/{project}/{run}/"),
      kind: r.kind,
      authOk: r.authOk,
      contentType: r.contentType,
      body,
    };
  });
}

function redactVolatile(row: unknown): unknown {
  if (typeof row !== "object" || row === null) return row;
  const out: Record<string, unknown> = { ...(row as Record<string, unknown>) };
  for (const key of ["_runtime", "_timestamp"]) if (key in out) out[key] = `<${typeof out[key]}>`;
  return out;
}
