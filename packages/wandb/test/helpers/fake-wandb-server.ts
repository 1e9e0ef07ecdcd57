// A loopback stand-in for the W&B API: GraphQL at /graphql, file_stream at /files/{e}/{p}/{r}/file_stream
// and signed-URL uploads at /upload/... . It keeps what a real server would (history lines by offset,
// summary, exit code, files), records every request as a transcript, and injects faults on demand.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { parseWandbJson } from "../../src/wandb-json.ts";

export interface RecordedRequest {
  method: string;
  path: string;
  /** GraphQL operation name, "file_stream" or "upload". */
  kind: string;
  /** Authorization header was `Basic base64(api:<key>)` with the expected key. */
  authOk: boolean;
  contentType: string | null;
  body: unknown;
}

export interface ServerRun {
  entity: string;
  project: string;
  id: string;
  upserts: Record<string, unknown>[];
  /** History lines by offset; a hole is `undefined`. */
  history: (string | undefined)[];
  /** Times a line arrived for an offset already held (a resend); with different content: `conflicts`. */
  resent: number;
  conflicts: number;
  /** Requests whose offset lay beyond the held lines. */
  gaps: number;
  summary: string | null;
  complete: boolean;
  exitcode: number | null;
  preempting: boolean;
  uploadedNotices: string[];
  files: Map<string, Buffer>;
}

/** What to do with the next request that matches. */
export type Fault =
  | { kind: "status"; status: number; match?: (r: { kind: string }) => boolean }
  | { kind: "reset"; match?: (r: { kind: string }) => boolean }
  | { kind: "hang"; match?: (r: { kind: string }) => boolean }
  /** Process the request, then drop the connection: the client never sees the acknowledgement. */
  | { kind: "process-then-reset"; match?: (r: { kind: string }) => boolean };

export class FakeWandbServer {
  readonly transcript: RecordedRequest[] = [];
  readonly runs = new Map<string, ServerRun>();
  readonly faults: Fault[] = [];
  faultsApplied = 0;
  private server: Server | null = null;
  private sockets = new Set<Socket>();
  port = 0;

  constructor(
    readonly apiKey: string,
    readonly defaultEntity = "test-entity",
  ) {}

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Listen (on a random port the first time, on the same port after stop()). */
  async start(): Promise<void> {
    const server = createServer((req, res) => {
      void this.handle(req, res);
    });
    server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Pick a free port without listening on it: the client then finds the server down. */
  async reservePort(): Promise<void> {
    await this.start();
    await this.stop();
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server === null) return;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  run(entity: string, project: string, id: string): ServerRun {
    const key = `${entity}/${project}/${id}`;
    let run = this.runs.get(key);
    if (run === undefined) {
      run = {
        entity,
        project,
        id,
        upserts: [],
        history: [],
        resent: 0,
        conflicts: 0,
        gaps: 0,
        summary: null,
        complete: false,
        exitcode: null,
        preempting: false,
        uploadedNotices: [],
        files: new Map(),
      };
      this.runs.set(key, run);
    }
    return run;
  }

  /** The only run the server knows (tests start one per server). */
  onlyRun(): ServerRun {
    const runs = [...this.runs.values()];
    if (runs.length !== 1) throw new Error(`expected one run on the server, found ${runs.length}`);
    return runs[0]!;
  }

  /** History rows the server holds, parsed, in offset order. */
  historyRows(run: ServerRun): Record<string, unknown>[] {
    return run.history.map((line, i) => {
      if (line === undefined) throw new Error(`hole in server history at offset ${i}`);
      return parseWandbJson(line) as Record<string, unknown>;
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url ?? "/", this.baseUrl);
    const isUpload = url.pathname.startsWith("/upload/");
    let body: unknown = null;
    if (!isUpload && raw.length > 0) {
      try {
        body = JSON.parse(raw.toString("utf8"));
      } catch {
        return this.reply(res, 400, { error: "body is not JSON" });
      }
    }
    const kind = isUpload
      ? "upload"
      : url.pathname.endsWith("/file_stream")
        ? "file_stream"
        : url.pathname === "/graphql"
          ? graphqlOperation(body)
          : "unknown";
    const expected = `Basic ${Buffer.from(`api:${this.apiKey}`).toString("base64")}`;
    const authOk = req.headers.authorization === expected;
    this.transcript.push({
      method: req.method ?? "",
      path: url.pathname,
      kind,
      authOk,
      contentType: req.headers["content-type"] ?? null,
      body: isUpload ? `<${raw.length} bytes>` : body,
    });

    const faultIndex = this.faults.findIndex((f) => f.match === undefined || f.match({ kind }));
    const fault = faultIndex >= 0 ? this.faults.splice(faultIndex, 1)[0] : undefined;
    if (fault !== undefined) {
      this.faultsApplied++;
      if (fault.kind === "status") return this.reply(res, fault.status, { error: "injected" });
      if (fault.kind === "reset") return void req.socket.destroy();
      if (fault.kind === "hang") return; // never answer; the client's timeout fires
    }
    if (!isUpload && !authOk) return this.reply(res, 401, { error: "bad credentials" });

    let answer: { status: number; body: unknown };
    if (isUpload) answer = this.upload(url, req, raw);
    else if (kind === "file_stream") answer = this.fileStream(url, body as Record<string, unknown>);
    else if (url.pathname === "/graphql") answer = this.graphql(kind, body as { variables?: Record<string, unknown> });
    else answer = { status: 404, body: { error: "not found" } };

    if (fault?.kind === "process-then-reset") return void req.socket.destroy();
    this.reply(res, answer.status, answer.body);
  }

  private reply(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { "Content-Type": "application/json" });
    res.end(JSON.stringify(body));
  }

  private graphql(operation: string, body: { variables?: Record<string, unknown> }): { status: number; body: unknown } {
    const v = body.variables ?? {};
    const entityOf = (e: unknown) => (typeof e === "string" && e !== "" ? e : this.defaultEntity);
    switch (operation) {
      case "Viewer":
        return ok({ viewer: { id: "VXNlcjox", entity: this.defaultEntity, flags: "{}", teams: { edges: [] } } });
      case "UpsertBucket": {
        const entity = entityOf(v["entity"]);
        const project = typeof v["project"] === "string" && v["project"] !== "" ? v["project"] : "uncategorized";
        const id = v["name"];
        if (typeof id !== "string" || id === "") return ok(null, "UpsertBucket needs name");
        if (typeof v["config"] === "string") parseWandbJson(v["config"]);
        const run = this.run(entity, project, id);
        const inserted = run.upserts.length === 0;
        run.upserts.push(v);
        return ok({
          upsertBucket: {
            bucket: {
              id: `bucket-${id}`,
              name: id,
              displayName: v["displayName"] ?? id,
              description: null,
              config: v["config"] ?? "{}",
              sweepName: null,
              project: { id: `project-${project}`, name: project, entity: { id: `entity-${entity}`, name: entity } },
            },
            inserted,
          },
        });
      }
      case "RunResumeStatus": {
        const run = this.runs.get(`${entityOf(v["entity"])}/${String(v["project"])}/${String(v["name"])}`);
        return ok({
          model: {
            id: "m",
            name: v["project"],
            entity: { id: "e", name: entityOf(v["entity"]) },
            bucket:
              run === undefined
                ? null
                : {
                    id: `bucket-${run.id}`,
                    name: run.id,
                    historyLineCount: run.history.length,
                    eventsLineCount: 0,
                    logLineCount: 0,
                    summaryMetrics: run.summary,
                  },
          },
        });
      }
      case "CreateRunFiles": {
        const entity = entityOf(v["entity"]);
        const names = v["files"] as string[];
        const run = this.runs.get(`${entity}/${String(v["project"])}/${String(v["run"])}`);
        if (run === undefined) return ok(null, "run not found");
        return ok({
          createRunFiles: {
            runID: `bucket-${run.id}`,
            uploadHeaders: ["X-Test-Upload:yes"],
            files: names.map((name) => ({
              name,
              uploadUrl: `${this.baseUrl}/upload/${entity}/${run.project}/${run.id}/${encodeURIComponent(name)}?signature=test`,
            })),
          },
        });
      }
      default:
        return ok(null, `operation ${operation} is not implemented by the test server`);
    }
  }

  private fileStream(url: URL, body: Record<string, unknown>): { status: number; body: unknown } {
    const [, , entity, project, id] = url.pathname.split("/").map(decodeURIComponent);
    const run = this.runs.get(`${entity}/${project}/${id}`);
    if (run === undefined) return { status: 404, body: { error: "run not found: upsert it first" } };
    const files = (body["files"] ?? {}) as Record<string, { offset: number; content: string[] }>;
    for (const [name, chunk] of Object.entries(files)) {
      if (typeof chunk.offset !== "number" || !Array.isArray(chunk.content))
        return { status: 400, body: { error: `bad chunk for ${name}` } };
      for (const line of chunk.content) parseWandbJson(line); // every line must be W&B JSON
      if (name === "wandb-history.jsonl") {
        if (chunk.offset > run.history.length) run.gaps++;
        chunk.content.forEach((line, i) => {
          const at = chunk.offset + i;
          const held = run.history[at];
          if (held !== undefined) {
            run.resent++;
            if (held !== line) run.conflicts++;
          }
          run.history[at] = line;
        });
      } else if (name === "wandb-summary.json") {
        run.summary = chunk.content[chunk.content.length - 1] ?? run.summary;
      }
    }
    if (Array.isArray(body["uploaded"])) run.uploadedNotices.push(...(body["uploaded"] as string[]));
    if (body["preempting"] === true) run.preempting = true;
    if (body["complete"] === true) {
      run.complete = true;
      run.exitcode = typeof body["exitcode"] === "number" ? body["exitcode"] : null;
    }
    return { status: 200, body: { exitcode: null, limits: {} } };
  }

  private upload(url: URL, req: IncomingMessage, raw: Buffer): { status: number; body: unknown } {
    if (
      req.method !== "PUT" ||
      req.headers["x-test-upload"] !== "yes" ||
      url.searchParams.get("signature") !== "test"
    ) {
      return { status: 403, body: { error: "upload without the signed URL's headers" } };
    }
    const [, , entity, project, id, ...name] = url.pathname.split("/");
    const run = this.runs.get(`${entity}/${project}/${id}`);
    if (run === undefined) return { status: 404, body: { error: "no such run" } };
    run.files.set(decodeURIComponent(name.join("/")), raw);
    return { status: 200, body: {} };
  }
}

function ok(data: unknown, error?: string): { status: number; body: unknown } {
  return { status: 200, body: error === undefined ? { data } : { data, errors: [{ message: error }] } };
}

function graphqlOperation(body: unknown): string {
  const b = body as { operationName?: string; query?: string } | null;
  if (typeof b?.operationName === "string") return b.operationName;
  const match = /\b(?:query|mutation)\s+(\w+)/.exec(b?.query ?? "");
  return match?.[1] ?? "anonymous";
}
