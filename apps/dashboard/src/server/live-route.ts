/**
 * POST /api/live: a JSON body of at most 64 KiB holding a LiveRequest and nothing else, for a discovered diffing run,
 * handed to the live engine (made on the first request; it checks the request and runs one at a time).
 */
import type { IncomingMessage } from "node:http";
import { rejectUnknownKeys } from "@difflens/common";
import type { LiveRequest, LiveResponse } from "../api/live-types.ts";
import { DashboardError } from "../errors.ts";
import { createLiveEngine, type LiveEngine } from "../live/live-engine.ts";
import { clip } from "./query.ts";
import type { RunRegistry } from "./run-registry.ts";

export const MAX_LIVE_BODY_BYTES = 64 * 1024;

export class LiveRoute {
  #engine: LiveEngine | null = null;

  constructor(
    private readonly registry: RunRegistry,
    private readonly enabled: boolean,
    private readonly log: (line: string) => void,
  ) {}

  async handle(req: IncomingMessage): Promise<LiveResponse> {
    if (!this.enabled) {
      throw new DashboardError("LIVE_UNAVAILABLE", "live mode is off (the server was started with --no-live)");
    }
    const type = String(req.headers["content-type"] ?? "");
    // application/json also keeps other web pages out: a cross-site form cannot send it without a CORS preflight.
    if (!/^application\/json\s*(;|$)/i.test(type)) {
      throw new DashboardError(
        "BAD_REQUEST",
        `POST ${"/api/live"}: expected Content-Type application/json, got "${clip(type)}"`,
        {
          field: "Content-Type",
        },
      );
    }
    const request = parseLiveRequest(await readBody(req, MAX_LIVE_BODY_BYTES));
    const run = await this.registry.get(request.run);
    if (run.kind !== "diffing") {
      throw new DashboardError("BAD_REQUEST", `run "${run.id}" is a ${run.kind} run: live needs a diffing run`, {
        field: "run",
      });
    }
    this.#engine ??= createLiveEngine({ log: this.log });
    return this.#engine.run(run, request);
  }

  async close(): Promise<void> {
    await this.#engine?.close();
    this.#engine = null;
  }
}

/** The body as text; over `limit` bytes is TOO_LARGE (the rest is not read). */
export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.reject(
      new DashboardError("TOO_LARGE", `request body over ${limit} bytes (Content-Length ${declared})`),
    );
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners("data");
        req.resume();
        reject(new DashboardError("TOO_LARGE", `request body over ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/**
 * The body as a LiveRequest: a JSON object with the LiveRequest keys only and a run id; the live engine checks the
 * rest (stage, text or chat, topK) before it queues the request.
 */
export function parseLiveRequest(text: string): LiveRequest {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw bad("body", `the body is not valid JSON — ${(error as Error).message}`);
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) throw bad("body", "expected a JSON object");
  const b = body as Record<string, unknown>;
  rejectUnknownKeys(b, ["run", "stage", "text", "chat", "topK"], "the live request", (message, facts) => {
    throw bad(facts.field, message);
  });
  if (typeof b["run"] !== "string" || b["run"] === "") throw bad("run", "expected a run id (string)");
  return b as unknown as LiveRequest;
}

function bad(field: string, message: string): DashboardError {
  return new DashboardError("BAD_REQUEST", `live request: ${field}: ${message}`, { field });
}
