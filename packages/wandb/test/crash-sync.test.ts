// A child process trains online and is killed with SIGKILL mid-run; `sync` then completes the upload.
// Every record the child reported as logged must be in the folder (at most the one being written is
// lost), and the server must end with exactly the folder's records, none duplicated.
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { syncRunFolder } from "../src/index.ts";
import { FakeWandbServer } from "./helpers/fake-wandb-server.ts";
import { API_KEY, localHistory, sleep, TEST_STREAM, tempDir, waitFor } from "./helpers/harness.ts";

const servers: FakeWandbServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

const child = fileURLToPath(new URL("./helpers/train-child.ts", import.meta.url));
const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

describe("crash mid-run, then sync", () => {
  it("SIGKILL while logging online loses at most the last record; sync delivers the rest exactly once", async () => {
    const server = new FakeWandbServer(API_KEY);
    servers.push(server);
    await server.start();
    const dir = tempDir("crash");
    const progressFile = join(dir, "progress.txt");
    // node --import tsx, not the tsx binary: the binary runs the script in a grandchild that SIGKILL would miss.
    const tsx = ["--conditions=@difflens/source", "--import", "tsx"];
    const proc = spawn(process.execPath, [...tsx, child, dir, server.baseUrl, progressFile], {
      cwd: repoRoot,
      env: { ...process.env, WANDB_API_KEY: API_KEY },
      stdio: ["ignore", "inherit", "inherit"],
    });
    const readProgress = (): { folder: string; reported: number } => {
      if (!existsSync(progressFile)) return { folder: "", reported: 0 };
      const [folder = "", count = "0"] = readFileSync(progressFile, "utf8").split("\n");
      return { folder, reported: Number(count.trim() || "0") };
    };
    const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.on("exit", (_code, signal) => resolve(signal)));
    // Kill once the streamer has delivered something and training is well under way.
    await waitFor(
      () => readProgress().reported >= 400 && server.runs.size === 1 && server.onlyRun().history.length > 0,
      20_000,
      "child to log and stream",
    );
    proc.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");
    await sleep(200); // a request fully sent before the kill may still be processed by the server
    const { folder, reported } = readProgress();

    const local = localHistory(folder);
    expect(local.length).toBeGreaterThanOrEqual(reported);
    expect(local.length).toBeLessThanOrEqual(reported + 1);
    expect(local.map((r) => r["_step"])).toEqual([...Array(local.length).keys()]);
    const serverRun = server.onlyRun();
    const streamedBeforeKill = serverRun.history.length;
    expect(streamedBeforeKill).toBeLessThanOrEqual(local.length);

    const report = await syncRunFolder(folder, { baseUrl: server.baseUrl, apiKey: API_KEY, stream: TEST_STREAM });
    expect(report).toMatchObject({
      localLines: local.length,
      acknowledgedLines: local.length,
      unfinished: true,
      completed: false,
    });
    expect(report.sentLines).toBe(local.length - streamedBeforeKill);
    const remote = server.historyRows(serverRun);
    expect(remote).toEqual(local);
    expect(serverRun.conflicts).toBe(0);
    expect(serverRun.gaps).toBe(0);
    // A second sync closes the crashed run with an explicit exit code and sends no history.
    const close = await syncRunFolder(folder, {
      baseUrl: server.baseUrl,
      apiKey: API_KEY,
      stream: TEST_STREAM,
      exitCode: 137,
    });
    expect(close).toMatchObject({ sentLines: 0, completed: true });
    expect(serverRun.exitcode).toBe(137);
    expect(server.historyRows(serverRun)).toHaveLength(local.length);
    console.log(
      `crash: child reported ${reported}, folder holds ${local.length}, server had ${streamedBeforeKill} at the kill, ` +
        `sync sent ${report.sentLines}, server ends with ${remote.length} (resent ${serverRun.resent})`,
    );
  });
});
