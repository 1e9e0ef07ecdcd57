/**
 * POST /api/live: a JSON body of at most 64 KiB, validated field by field (a LiveRequest, nothing else), run on the
 * live engine one request at a time (the model and SAE share the machine's cores; queued requests wait their turn).
 */
import type { IncomingMessage } from "node:http";
import { rejectUnknownKeys } from "@difflens/common";
import { STAGES } from "../api/diffing-types.ts";
import type { LiveRequest, LiveResponse } from "../api/live-types.ts";
import { DashboardError } from "../errors.ts";
import { createLiveEngine, type LiveEngine } from "../live/live-engine.ts";
import { clip } from "./query.ts";
import type { RunRegistry } from "./run-registry.ts";

export const MAX_LIVE_BODY_BYTES = 64 * 1024;
const MAX_TEXT_CHARS = 8000;
export const MAX_TOP_K = 32;

export class LiveRoute {
  #engine: LiveEngine | null = null;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly registry: RunRegistry,
    private readonly enabled: boolean,
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
    const job = this.#queue.then(() => {
      this.#engine ??= createLiveEngine();
      return this.#engine.run(run, request);
    });
    this.#queue = job.catch(() => undefined);
    return job;
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

/** A LiveRequest from the body's JSON, or BAD_REQUEST naming the field and what was expected. */
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
  if (typeof b["stage"] !== "string" || !(STAGES as readonly string[]).includes(b["stage"])) {
    throw bad("stage", `expected one of ${STAGES.join(", ")}`);
  }
  const request: { -readonly [K in keyof LiveRequest]: LiveRequest[K] } = {
    run: b["run"],
    stage: b["stage"] as LiveRequest["stage"],
  };
  if ((b["text"] === undefined) === (b["chat"] === undefined))
    throw bad("text", "expected exactly one of text and chat");
  if (b["text"] !== undefined) request.text = textField(b["text"], "text");
  if (b["chat"] !== undefined) {
    const chat = b["chat"];
    if (chat === null || typeof chat !== "object" || Array.isArray(chat))
      throw bad("chat", "expected { system, user }");
    const c = chat as Record<string, unknown>;
    rejectUnknownKeys(c, ["system", "user"], "chat", (message, facts) => {
      throw bad(`chat.${facts.field}`, message);
    });
    const system = c["system"] === null || c["system"] === undefined ? null : textField(c["system"], "chat.system");
    request.chat = { system, user: textField(c["user"], "chat.user") };
  }
  if (b["topK"] !== undefined) {
    const k = b["topK"];
    if (typeof k !== "number" || !Number.isInteger(k) || k < 1 || k > MAX_TOP_K)
      throw bad("topK", `expected an integer 1–${MAX_TOP_K}`);
    request.topK = k;
  }
  return request;
}

function textField(value: unknown, field: string): string {
  if (typeof value !== "string") throw bad(field, "expected a string");
  if (value.length > MAX_TEXT_CHARS)
    throw bad(field, `expected at most ${MAX_TEXT_CHARS} characters, got ${value.length}`);
  return value;
}

function bad(field: string, message: string): DashboardError {
  return new DashboardError("BAD_REQUEST", `live request: ${field}: ${message}`, { field });
}
