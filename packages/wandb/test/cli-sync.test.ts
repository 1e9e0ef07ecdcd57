import { execFile } from "node:child_process";
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, it, vi } from "vitest";
import { main } from "../src/cli/main.ts";
import { init, syncRunFolder, type WandbError } from "../src/index.ts";
import { FakeWandbServer } from "./helpers/fake-wandb-server.ts";
import { API_KEY, TEST_STREAM, tempDir } from "./helpers/harness.ts";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const cli = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));
const servers: FakeWandbServer[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const s of servers.splice(0)) await s.stop();
});

async function offlineFolder(records: number): Promise<string> {
  const run = init({ project: "cli", mode: "offline", dir: tempDir("cli"), silent: true });
  for (let i = 0; i < records; i++) run.log({ loss: i });
  await run.finish();
  return run.folder!;
}

async function syncError(folder: string): Promise<WandbError> {
  try {
    await syncRunFolder(folder, { baseUrl: "http://127.0.0.1:9", apiKey: API_KEY, stream: TEST_STREAM, timeoutMs: 1 });
  } catch (error) {
    return error as WandbError;
  }
  throw new Error("sync did not fail");
}

describe("difflens-wandb CLI", () => {
  it("runs as a script: --help, then sync twice (idempotent) against the loopback server", async () => {
    const run = (args: string[]) =>
      promisify(execFile)(process.execPath, ["--conditions=@difflens/source", "--import", "tsx", cli, ...args], {
        cwd: repoRoot,
        env: { ...process.env, WANDB_API_KEY: API_KEY, WANDB_BASE_URL: server.baseUrl },
        timeout: 30_000,
      });
    const server = new FakeWandbServer(API_KEY);
    servers.push(server);
    await server.start();
    const help = await run(["--help"]);
    expect(help.stdout).toContain("pnpm difflens-wandb sync <run folder>");
    const folder = await offlineFolder(40);
    const first = await run(["sync", folder]);
    expect(first.stdout).toContain("40 history lines, 40 sent now, 40 on the server");
    expect(first.stdout).toContain(`${server.baseUrl}/test-entity/cli/runs/`);
    const second = await run(["sync", folder]);
    expect(second.stdout).toContain("40 history lines, 0 sent now, 40 on the server");
    expect(server.onlyRun().history).toHaveLength(40);
    expect(server.onlyRun().resent).toBe(0);
  });

  it("exit status 2 for bad usage, with a hint", async () => {
    const err = vi.spyOn(console, "error").mockImplementation(() => undefined);
    expect(await main(["upload", "x"])).toBe(2);
    expect(await main(["sync"])).toBe(2);
    expect(await main(["sync", "x", "--exit-code", "-1"])).toBe(2);
    expect(await main(["sync", "x", "--bogus"])).toBe(2);
    expect(err.mock.calls.flat().join("\n")).toContain("--help");
  });

  it("--help exits 0 (the table and each command); a typo'd flag exits 2 naming the nearest flag", async () => {
    let out = "";
    const lines: string[] = [];
    const io = { out: (text: string) => void (out += text), log: (line: string) => void lines.push(line) };
    expect(await main(["--help"], io)).toBe(0);
    expect(await main(["sync", "--help"], io)).toBe(0);
    expect(out).toContain("--exit-code N");
    expect(await main(["sync", "x", "--entitiy", "me"], io)).toBe(2);
    expect(lines.join("\n")).toContain('unknown flag --entitiy — did you mean "--entity"?');
  });

  it("exit status 1 and the folder named when a folder cannot be synced", async () => {
    const err = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const missing = join(tempDir("missing"), "nope");
    expect(await main(["sync", missing, "--base-url", "http://127.0.0.1:9"])).toBe(1);
    expect(err.mock.calls.flat().join("\n")).toContain(`${missing}: NOT_A_RUN_FOLDER`);
  });
});

describe("sync refuses corrupt or foreign folders with a clear error", () => {
  it("an empty folder", async () => {
    const error = await syncError(tempDir("empty"));
    expect(error.code).toBe("NOT_A_RUN_FOLDER");
    expect(error.message).toContain("an empty folder");
  });

  it("a Python wandb run folder: points to `wandb sync`", async () => {
    const dir = tempDir("python");
    writeFileSync(join(dir, "run-abc123.wandb"), "binary");
    mkdirSync(join(dir, "files"));
    writeFileSync(join(dir, "files", "wandb-metadata.json"), "{}");
    const error = await syncError(dir);
    expect(error.code).toBe("NOT_A_RUN_FOLDER");
    expect(error.facts.fix).toContain("wandb sync");
  });

  it("run.json from another tool, or of a newer version", async () => {
    const folder = await offlineFolder(2);
    const manifest = JSON.parse(readFileSync(join(folder, "run.json"), "utf8"));
    writeFileSync(join(folder, "run.json"), JSON.stringify({ ...manifest, format: "mlflow-run" }));
    expect(await syncError(folder)).toMatchObject({
      code: "NOT_A_RUN_FOLDER",
      facts: { field: "format", got: '"mlflow-run"' },
    });
    writeFileSync(join(folder, "run.json"), JSON.stringify({ ...manifest, version: 99 }));
    expect(await syncError(folder)).toMatchObject({ code: "RUN_FOLDER_CORRUPT", facts: { field: "version" } });
  });

  it("a truncated run.json", async () => {
    const folder = await offlineFolder(2);
    writeFileSync(join(folder, "run.json"), '{"format": "difflens-wandb-run", "id": ');
    const error = await syncError(folder);
    expect(error.code).toBe("RUN_FOLDER_CORRUPT");
    expect(error.facts.file).toBe(join(folder, "run.json"));
  });

  it("a damaged history line names its line number", async () => {
    const folder = await offlineFolder(3);
    appendFileSync(join(folder, "history.jsonl"), '{"loss": 1, "_step": 3\n{"loss":2,"_step":4}\n');
    const error = await syncError(folder);
    expect(error.code).toBe("RUN_FOLDER_CORRUPT");
    expect(error.message).toContain("history line 4");
  });

  it("a history line that is JSON but not a W&B row", async () => {
    const folder = await offlineFolder(1);
    appendFileSync(join(folder, "history.jsonl"), "[1,2,3]\n");
    expect((await syncError(folder)).message).toContain("history line 2 is not a W&B history row");
  });
});
