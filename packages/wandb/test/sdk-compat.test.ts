// The loopback server is not merely our client's mirror: it accepts the real @wandb/sdk 0.5.1 unchanged,
// and our client's requests are checked against the committed transcript of what that SDK sends.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { init } from "../src/index.ts";
import { FakeWandbServer } from "./helpers/fake-wandb-server.ts";
import { API_KEY, TEST_STREAM, tempDir } from "./helpers/harness.ts";
import { normaliseTranscript, shapeOf } from "./helpers/transcript-shapes.ts";

interface Recorded {
  method: string;
  path: string;
  kind: string;
  authOk: boolean;
  contentType: string | null;
  body: Record<string, unknown>;
}
interface Transcript {
  serverHistoryLines: number;
  requests: Recorded[];
  complete?: boolean;
  exitcode?: number | null;
}

const fixture = JSON.parse(
  readFileSync(new URL("./fixtures/wandb-sdk-0.5.1-transcript.json", import.meta.url), "utf8"),
) as Transcript;
const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const recorder = fileURLToPath(new URL("./helpers/record-sdk-transcript.ts", import.meta.url));

const servers: FakeWandbServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

/** GraphQL's lexical tokens: commas and white space are insignificant in the language. */
function graphqlTokens(query: unknown): string[] {
  return String(query)
    .split(/[\s,]+|(?=[(){}:[\]!$])|(?<=[(){}:[\]!])/)
    .filter((t) => t.length > 0);
}

/** Kind of a request for matching: GraphQL operation, or file_stream split by what it carries. */
function role(r: Recorded): string {
  if (r.kind !== "file_stream") return r.kind;
  const files = r.body["files"] as Record<string, unknown> | undefined;
  if (files !== undefined && "wandb-history.jsonl" in files) return "file_stream:history";
  if (r.body["complete"] === true) return "file_stream:complete";
  return "file_stream:other";
}

describe("compatibility with @wandb/sdk 0.5.1", () => {
  it("the loopback server accepts the real SDK's traffic, and the committed transcript is what it sends", async () => {
    const tsx = ["--conditions=@difflens/source", "--import", "tsx"];
    const { stdout } = await promisify(execFile)(process.execPath, [...tsx, recorder, "--print"], {
      cwd: repoRoot,
      timeout: 30_000,
    });
    const live = JSON.parse(stdout.trim().split("\n").at(-1)!) as Transcript;
    expect(live.serverHistoryLines).toBe(3);
    expect(live.complete).toBe(true);
    expect(live.exitcode).toBe(0);
    expect(live.requests.every((r) => r.authOk)).toBe(true);
    expect(live.requests.map(role)).toEqual(fixture.requests.map(role));
    expect(live.requests.map((r) => shapeOf(r.body))).toEqual(fixture.requests.map((r) => shapeOf(r.body)));
  });

  it("our client's requests have the SDK's shapes", async () => {
    const server = new FakeWandbServer(API_KEY);
    servers.push(server);
    await server.start();
    const run = init({
      project: "shapes",
      name: "short run",
      mode: "online",
      dir: tempDir("shapes"),
      baseUrl: server.baseUrl,
      apiKey: API_KEY,
      config: { lr: 0.001, layers: 2 },
      stream: TEST_STREAM,
      silent: true,
    });
    for (let step = 0; step < 3; step++) run.log({ loss: 1 / (step + 1), acc: step / 3 }, step);
    await run.finish({ exitCode: 0 });
    const ours = normaliseTranscript(server.transcript) as Recorded[];
    const sdkByRole = new Map(fixture.requests.map((r) => [role(r), r]));
    const oursByRole = new Map<string, Recorded>();
    for (const r of ours) if (!oursByRole.has(role(r))) oursByRole.set(role(r), r);
    // Every request kind the SDK sends, we send too, the same way.
    for (const [kind, sdk] of sdkByRole) {
      const mine = oursByRole.get(kind);
      expect(mine, kind).toBeDefined();
      expect([mine!.method, mine!.path, mine!.contentType, mine!.authOk], kind).toEqual([
        sdk.method,
        sdk.path,
        sdk.contentType,
        true,
      ]);
      expect(Object.keys(mine!.body).sort(), kind).toEqual(Object.keys(sdk.body).sort());
    }
    // GraphQL: the same documents; our variables are a subset of those the document declares, typed alike.
    for (const op of ["Viewer", "UpsertBucket"]) {
      const sdk = sdkByRole.get(op)!;
      const mine = oursByRole.get(op)!;
      expect(graphqlTokens(mine.body["query"]), op).toEqual(graphqlTokens(sdk.body["query"]));
      const declared = [...String(sdk.body["query"]).matchAll(/\$(\w+):/g)].map((m) => m[1]);
      const vars = mine.body["variables"] as Record<string, unknown>;
      expect(declared).toEqual(expect.arrayContaining(Object.keys(vars)));
      const sdkVars = sdk.body["variables"] as Record<string, unknown>;
      for (const key of Object.keys(sdkVars)) expect(shapeOf(vars[key]), `${op}.${key}`).toEqual(shapeOf(sdkVars[key]));
    }
    // file_stream: history and summary chunks shaped alike, rows carry _step/_runtime/_timestamp.
    const sdkFiles = sdkByRole.get("file_stream:history")!.body["files"] as Record<
      string,
      { content: Record<string, unknown>[] }
    >;
    const myFiles = oursByRole.get("file_stream:history")!.body["files"] as Record<
      string,
      { content: Record<string, unknown>[] }
    >;
    for (const name of ["wandb-history.jsonl", "wandb-summary.json"]) {
      expect(Object.keys(myFiles[name]!).sort(), name).toEqual(Object.keys(sdkFiles[name]!).sort());
      expect(shapeOf(myFiles[name]!.content), name).toEqual(shapeOf(sdkFiles[name]!.content));
    }
    expect(myFiles["wandb-history.jsonl"]!.content).toEqual(sdkFiles["wandb-history.jsonl"]!.content);
    expect(shapeOf(oursByRole.get("file_stream:complete")!.body)).toEqual(
      shapeOf(sdkByRole.get("file_stream:complete")!.body),
    );
  });
});
