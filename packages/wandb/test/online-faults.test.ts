// Online runs against the loopback server under faults. In every case the server must end with exactly
// the records written locally, each once, in order (checked line by line, not only counted).
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { init, syncRunFolder, type WandbRun } from "../src/index.ts";
import { FakeWandbServer, type ServerRun } from "./helpers/fake-wandb-server.ts";
import { API_KEY, collector, localHistory, sleep, TEST_STREAM, tempDir, waitFor } from "./helpers/harness.ts";

const servers: FakeWandbServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

async function upServer(): Promise<FakeWandbServer> {
  const server = new FakeWandbServer(API_KEY);
  servers.push(server);
  await server.start();
  return server;
}

function onlineRun(server: FakeWandbServer, extra: Record<string, unknown> = {}): { run: WandbRun; lines: string[] } {
  const out = collector();
  const run = init(
    {
      project: "faults",
      mode: "online",
      dir: tempDir("online"),
      baseUrl: server.baseUrl,
      apiKey: API_KEY,
      stream: TEST_STREAM,
      ...extra,
    },
    out.say,
  );
  return { run, lines: out.lines };
}

/** Server history equals local history line by line; nothing resent with other content, no gaps. */
function expectExactlyLocal(server: FakeWandbServer, serverRun: ServerRun, folder: string): number {
  const local = localHistory(folder);
  const remote = server.historyRows(serverRun);
  expect(remote.length).toBe(local.length);
  expect(remote).toEqual(local);
  expect(new Set(remote.map((r) => r["_step"])).size).toBe(remote.length);
  expect(serverRun.conflicts).toBe(0);
  expect(serverRun.gaps).toBe(0);
  return remote.length;
}

async function train(run: WandbRun, from: number, count: number): Promise<void> {
  for (let step = from; step < from + count; step++) {
    run.log({ loss: 1 / (step + 1), tokens: step * 512 });
    if (step % 10 === 9) await sleep(1); // a training loop awaits its data loader now and then
  }
}

describe("online run against the loopback server", () => {
  it("normal run: prints the URL, streams history, summary, config, files; closes the run", async () => {
    const server = await upServer();
    const { run, lines } = onlineRun(server, { entity: "me", name: "normal", config: { lr: 0.001 } });
    expect(lines[0]).toContain(`${server.baseUrl}/me/faults/runs/${run.id}`);
    expect(run.url).toBe(`${server.baseUrl}/me/faults/runs/${run.id}`);
    await train(run, 0, 150);
    run.log({ loss: Number.NaN });
    run.summary({ best: 0.01 });
    run.updateConfig({ seed: 3 });
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
    run.saveFile("figures/loss.png", png);
    const result = await run.finish({ exitCode: 0 });
    expect(result).toMatchObject({ records: 151, uploaded: true, pendingRecords: 0 });
    const serverRun = server.onlyRun();
    expect(expectExactlyLocal(server, serverRun, run.folder!)).toBe(151);
    expect(serverRun.history[150]).toMatch(/^\{"loss":NaN,"_step":150,/);
    expect(serverRun.complete).toBe(true);
    expect(serverRun.exitcode).toBe(0);
    expect(JSON.parse(serverRun.summary!.replace("NaN", "null"))).toMatchObject({
      best: 0.01,
      tokens: 149 * 512,
      _step: 150,
    });
    const lastConfig = serverRun.upserts.at(-1)!["config"] as string;
    expect(JSON.parse(lastConfig)).toEqual({ lr: { value: 0.001, desc: null }, seed: { value: 3, desc: null } });
    expect([...serverRun.files.get("figures/loss.png")!]).toEqual([...png]);
    expect(JSON.parse(serverRun.files.get("wandb-metadata.json")!.toString()).git.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(serverRun.uploadedNotices).toEqual(expect.arrayContaining(["figures/loss.png", "wandb-metadata.json"]));
    // Batching: far fewer history requests than records.
    const historyRequests = server.transcript.filter(
      (r) => r.kind === "file_stream" && JSON.stringify(r.body).includes("wandb-history"),
    ).length;
    expect(historyRequests).toBeLessThan(151 / 5);
    console.log(`normal run: local 151, server 151, history requests ${historyRequests}`);
  });

  it("server down at start: log() keeps going, the streamer retries and delivers every record once", async () => {
    const server = new FakeWandbServer(API_KEY);
    servers.push(server);
    await server.reservePort();
    const { run, lines } = onlineRun(server);
    expect(lines[0]).toContain("URL once the server names the entity");
    const t0 = performance.now();
    await train(run, 0, 80);
    const logMs = performance.now() - t0;
    await sleep(150);
    expect(server.transcript).toHaveLength(0);
    await server.start();
    await train(run, 80, 70);
    const result = await run.finish({ exitCode: 0 });
    expect(result.uploaded).toBe(true);
    const serverRun = server.onlyRun();
    expect(serverRun.entity).toBe("test-entity"); // from Viewer
    expect(lines.join("\n")).toContain(`${server.baseUrl}/test-entity/faults/runs/${run.id}`);
    expect(lines.join("\n")).toContain("W&B unreachable");
    expect(expectExactlyLocal(server, serverRun, run.folder!)).toBe(150);
    console.log(`server down at start: local 150, server 150, 80 logs while down took ${logMs.toFixed(1)} ms`);
  });

  it("server failing mid-run (5xx, timeouts, resets, lost acks): exactly the local records, none duplicated", async () => {
    const server = await upServer();
    const { run } = onlineRun(server);
    await train(run, 0, 40);
    await waitFor(() => server.runs.size === 1 && server.onlyRun().history.length > 0, 5000, "first history batch");
    const fs = { match: (r: { kind: string }) => r.kind === "file_stream" };
    server.faults.push(
      { kind: "status", status: 500, ...fs },
      { kind: "status", status: 503, ...fs },
      { kind: "reset", ...fs },
      { kind: "hang", ...fs },
      { kind: "process-then-reset", ...fs },
      { kind: "status", status: 502, ...fs },
      { kind: "process-then-reset", ...fs },
    );
    await train(run, 40, 260);
    const result = await run.finish({ exitCode: 0 });
    expect(result.uploaded).toBe(true);
    expect(server.faultsApplied).toBe(7);
    const serverRun = server.onlyRun();
    expect(serverRun.resent).toBeGreaterThan(0); // a lost acknowledgement was resent at the same offset
    expect(expectExactlyLocal(server, serverRun, run.folder!)).toBe(300);
    expect(serverRun.complete).toBe(true);
    console.log(
      `mid-run faults: local 300, server 300, faults 7, lines resent at their own offset ${serverRun.resent}`,
    );
  });

  it("a fatal answer (401) stops streaming, keeps the folder whole, and sync uploads it later", async () => {
    const server = await upServer();
    const out = collector();
    const run = init(
      {
        project: "faults",
        mode: "online",
        dir: tempDir("401"),
        baseUrl: server.baseUrl,
        apiKey: "wrong",
        stream: TEST_STREAM,
      },
      out.say,
    );
    await train(run, 0, 30);
    const result = await run.finish({ exitCode: 0 });
    expect(result).toMatchObject({ uploaded: false, records: 30 });
    expect(out.lines.join("\n")).toMatch(/streaming stopped: .*401.*pnpm difflens-wandb sync/);
    const report = await syncRunFolder(run.folder!, { baseUrl: server.baseUrl, apiKey: API_KEY, stream: TEST_STREAM });
    expect(report).toMatchObject({ localLines: 30, sentLines: 30, completed: true });
    expect(expectExactlyLocal(server, server.onlyRun(), run.folder!)).toBe(30);
  });
});

describe("liveness messages", () => {
  it("sends an empty file_stream heartbeat when idle, and `preempting` when asked", async () => {
    const server = await upServer();
    const { run } = onlineRun(server, { stream: { ...TEST_STREAM, heartbeatMs: 50 } });
    run.log({ loss: 1 });
    await waitFor(
      () => server.transcript.some((r) => r.kind === "file_stream" && JSON.stringify(r.body) === "{}"),
      5000,
      "heartbeat",
    );
    run.markPreempting();
    await waitFor(() => server.runs.size === 1 && server.onlyRun().preempting, 5000, "preempting");
    await run.finish({ exitCode: 0 });
    expect(server.onlyRun().history).toHaveLength(1);
  });
});

describe("sync", () => {
  async function offlineFolder(records: number): Promise<string> {
    const run = init({ project: "sync", mode: "offline", dir: tempDir("sync"), entity: "me", silent: true });
    for (let step = 0; step < records; step++) run.log({ loss: 1 / (step + 1) });
    run.saveFile("results.json", '{"auc":0.9}');
    await run.finish({ exitCode: 0 });
    return run.folder!;
  }

  it("duplicate sync sends nothing twice, also with the local state lost or after a lost ack", async () => {
    const server = await upServer();
    const folder = await offlineFolder(120);
    const options = { baseUrl: server.baseUrl, apiKey: API_KEY, stream: { ...TEST_STREAM, maxLinesPerRequest: 50 } };
    const first = await syncRunFolder(folder, options);
    expect(first).toMatchObject({
      localLines: 120,
      sentLines: 120,
      acknowledgedLines: 120,
      filesUploaded: 2,
      completed: true,
    });
    const requestsAfterFirst = server.transcript.length;
    const second = await syncRunFolder(folder, options);
    expect(second).toMatchObject({
      localLines: 120,
      sentLines: 0,
      acknowledgedLines: 120,
      filesUploaded: 0,
      completed: true,
    });
    expect(server.transcript.length).toBe(requestsAfterFirst); // the folder knows the run is closed
    rmSync(join(folder, "sync-state.json"));
    const third = await syncRunFolder(folder, options); // asks the server (RunResumeStatus) how far it got
    expect(third).toMatchObject({ localLines: 120, sentLines: 0, acknowledgedLines: 120 });
    const serverRun = server.onlyRun();
    expect(serverRun.resent).toBe(0);
    expect(expectExactlyLocal(server, serverRun, folder)).toBe(120);
    expect(serverRun.files.get("results.json")?.toString()).toBe('{"auc":0.9}');
    console.log(
      `duplicate sync: local 120, server 120; second sync sent ${second.sentLines}, sync without state sent ${third.sentLines}`,
    );
  });

  it("sync retries a flaky server until done", async () => {
    const server = await upServer();
    const folder = await offlineFolder(60);
    server.faults.push(
      { kind: "status", status: 500 },
      { kind: "reset" },
      { kind: "hang" },
      { kind: "process-then-reset", match: (r) => r.kind === "file_stream" },
    );
    const report = await syncRunFolder(folder, {
      baseUrl: server.baseUrl,
      apiKey: API_KEY,
      stream: { ...TEST_STREAM, maxLinesPerRequest: 25 },
    });
    expect(report.completed).toBe(true);
    expect(server.faultsApplied).toBe(4);
    expect(expectExactlyLocal(server, server.onlyRun(), folder)).toBe(60);
  });
});

describe("finish while the server stays down", () => {
  it("returns after finishTimeoutMs with the pending count and the sync command; sync later delivers all", async () => {
    const server = new FakeWandbServer(API_KEY);
    servers.push(server);
    await server.reservePort();
    const { run, lines } = onlineRun(server, { stream: { ...TEST_STREAM, finishTimeoutMs: 300 } });
    await train(run, 0, 25);
    const result = await run.finish({ exitCode: 0 });
    expect(result).toMatchObject({ records: 25, uploaded: false, pendingRecords: 25 });
    expect(lines.join("\n")).toContain("25 record(s) not yet on the server");
    await server.start();
    const report = await syncRunFolder(run.folder!, { baseUrl: server.baseUrl, apiKey: API_KEY, stream: TEST_STREAM });
    expect(report).toMatchObject({ sentLines: 25, completed: true });
    expect(expectExactlyLocal(server, server.onlyRun(), run.folder!)).toBe(25);
  });
});
