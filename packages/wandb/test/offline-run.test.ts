import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { init, WandbError } from "../src/index.ts";
import { collector, localHistory, TEST_STREAM, tempDir } from "./helpers/harness.ts";

function offlineRun(extra: Record<string, unknown> = {}) {
  const dir = tempDir("offline");
  const out = collector();
  const run = init(
    { project: "p", mode: "offline", dir, config: { lr: 0.01, layers: [2, 4] }, stream: TEST_STREAM, ...extra },
    out.say,
  );
  return { run, dir, out };
}

describe("offline run folder", () => {
  it("writes identity, config, metadata, history, summary, files and exit record; prints the folder", async () => {
    const { run, out } = offlineRun({ name: "fake training", tags: ["t1"], group: "g" });
    const folder = run.folder!;
    expect(out.lines[0]).toContain(folder);
    for (let step = 0; step < 25; step++) run.log({ loss: 1 / (step + 1) });
    run.summary({ best_loss: 0.04 });
    run.updateConfig({ seed: 7 });
    run.saveFile("results/metrics.json", JSON.stringify({ ok: true }));
    const result = await run.finish({ exitCode: 0 });
    expect(result).toEqual({ records: 25, uploaded: false, pendingRecords: 0, folder });

    const manifest = JSON.parse(readFileSync(join(folder, "run.json"), "utf8"));
    expect(manifest).toMatchObject({
      format: "difflens-wandb-run",
      version: 1,
      project: "p",
      name: "fake training",
      tags: ["t1"],
      group: "g",
      mode: "offline",
    });
    expect(JSON.parse(readFileSync(join(folder, "config.json"), "utf8"))).toEqual({
      lr: 0.01,
      layers: [2, 4],
      seed: 7,
    });
    expect(JSON.parse(readFileSync(join(folder, "summary.json"), "utf8"))).toEqual({ best_loss: 0.04 });
    const metadata = JSON.parse(readFileSync(join(folder, "metadata.json"), "utf8"));
    expect(metadata.git.commit).toMatch(/^[0-9a-f]{40}$/); // the workspace is a git checkout
    expect(metadata.host.length).toBeGreaterThan(0);
    expect(metadata.runtime.node).toBe(process.version);
    expect(metadata.packageVersions["@difflens/wandb"]).toBe("0.1.0");
    expect(metadata.packageVersions["@wandb/sdk"]).toBe("0.5.1");
    expect(JSON.stringify(metadata)).not.toContain(process.cwd()); // no absolute paths inside
    const rows = localHistory(folder);
    expect(rows.map((r) => r["_step"])).toEqual([...Array(25).keys()]);
    expect(rows[3]).toMatchObject({ loss: 0.25, _step: 3 });
    expect(typeof rows[0]!["_runtime"]).toBe("number");
    expect(typeof rows[0]!["_timestamp"]).toBe("number");
    expect(readFileSync(join(folder, "files/results/metrics.json"), "utf8")).toBe('{"ok":true}');
    expect(JSON.parse(readFileSync(join(folder, "exit.json"), "utf8")).exitCode).toBe(0);
  });

  it("flushes each record before log() returns", () => {
    const { run } = offlineRun();
    run.log({ loss: 0.5 }, 10);
    expect(localHistory(run.folder!)).toHaveLength(1);
    run.log({ loss: 0.4 }, { step: 11 });
    expect(localHistory(run.folder!).map((r) => r["_step"])).toEqual([10, 11]);
  });

  it("records non-finite metrics as W&B does (bare NaN / Infinity tokens)", () => {
    const { run } = offlineRun();
    run.log({ loss: Number.NaN, grad_norm: Infinity, lr: -Infinity, note: "diverged", ok: false, hist: [1, 2] });
    const line = readFileSync(join(run.folder!, "history.jsonl"), "utf8");
    expect(line).toMatch(
      /^\{"loss":NaN,"grad_norm":Infinity,"lr":-Infinity,"note":"diverged","ok":false,"hist":\[1,2\],"_step":0,/,
    );
  });

  it.each([
    [{ loss: 10n }, "loss", "convert with Number(value)"],
    [{ acts: new Float32Array(3) }, "acts", "Array.from"],
    [{ when: new Date() }, "when", undefined],
    [{ nested: { bad: () => 0 } }, "nested.bad", undefined],
    [{ _step: 3 }, "_step", undefined],
    [{ x: undefined }, "x", undefined],
  ])("rejects metric %# naming the key", (metrics, key, fix) => {
    const { run } = offlineRun();
    let error: WandbError | undefined;
    try {
      run.log(metrics as never);
    } catch (e) {
      error = e as WandbError;
    }
    expect(error).toBeInstanceOf(WandbError);
    expect(error!.code).toBe("INVALID_METRIC");
    expect(error!.facts.field).toBe(key);
    if (fix !== undefined) expect(error!.message).toContain(fix);
    expect(localHistory(run.folder!)).toHaveLength(0);
  });

  it("rejects a step that does not increase", () => {
    const { run } = offlineRun();
    run.log({ a: 1 }, 5);
    expect(() => run.log({ a: 2 }, 5)).toThrow(expect.objectContaining({ code: "STEP_NOT_INCREASING" }));
    expect(() => run.log({ a: 2 }, 4.5)).toThrow(expect.objectContaining({ code: "STEP_NOT_INCREASING" }));
  });

  it("rejects a config that cannot be serialised, naming the key, before creating a folder", () => {
    const dir = tempDir("badconfig");
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic["self"] = cyclic;
    for (const [config, field] of [
      [{ model: { seed: 1n } }, "config.model.seed"],
      [{ started: new Date(0) }, "config.started"],
      [cyclic, "config.self"],
    ] as const) {
      expect(() => init({ project: "p", mode: "offline", dir, config })).toThrow(
        expect.objectContaining({ code: "CONFIG_NOT_SERIALISABLE", facts: expect.objectContaining({ field }) }),
      );
    }
    expect(readdirSync(dir)).toEqual([]);
    const { run } = offlineRun();
    expect(() => run.updateConfig({ fn: () => 1 })).toThrow(
      expect.objectContaining({ code: "CONFIG_NOT_SERIALISABLE" }),
    );
    expect(run.config).toEqual({ lr: 0.01, layers: [2, 4] });
  });

  it("rejects unknown options with the nearest valid key, and leaves the input untouched", () => {
    const input = { project: "p", mode: "offline", tag: ["x"] };
    expect(() => init(input)).toThrow(
      expect.objectContaining({ code: "UNKNOWN_OPTION", message: expect.stringContaining('did you mean "tags"') }),
    );
    expect(() => init({ project: "p", mode: "offline", stream: { retry: { initialDelay: 1 } } })).toThrow(
      /did you mean "initialDelayMs"/,
    );
    expect(input).toEqual({ project: "p", mode: "offline", tag: ["x"] });
  });

  it("online without an API key: says how to set it, or falls back to offline by option", () => {
    const dir = tempDir("nokey");
    const env = { ...process.env };
    delete process.env["WANDB_API_KEY"];
    process.env["NETRC"] = join(dir, "no-netrc");
    try {
      expect(() => init({ project: "p", mode: "online", dir, baseUrl: "http://127.0.0.1:9" })).toThrow(
        expect.objectContaining({ code: "API_KEY_MISSING", message: expect.stringContaining("set WANDB_API_KEY") }),
      );
      const out = collector();
      const run = init(
        { project: "p", mode: "online", dir, baseUrl: "http://127.0.0.1:9", onMissingApiKey: "offline" },
        out.say,
      );
      expect(run.mode).toBe("offline");
      expect(out.lines.join("\n")).toMatch(/no API key.*running offline/);
    } finally {
      process.env = env;
    }
  });

  it("disabled mode writes nothing and accepts the same calls", async () => {
    const dir = tempDir("disabled");
    const run = init({ project: "p", mode: "disabled", dir });
    run.log({ a: 1 });
    run.summary({ b: 2 });
    expect(run.folder).toBeNull();
    expect(await run.finish()).toMatchObject({ records: 1, folder: null });
    expect(() => run.log({ a: 2 })).toThrow(expect.objectContaining({ code: "RUN_FINISHED" }));
  });

  it("rejects file names that escape the run or collide with W&B's own files", () => {
    const { run } = offlineRun();
    for (const name of ["../x.json", "/abs.png", "wandb-summary.json", ".hidden", "a//b"]) {
      expect(() => run.saveFile(name, "x")).toThrow(expect.objectContaining({ code: "BAD_FILE_NAME" }));
    }
  });
});
