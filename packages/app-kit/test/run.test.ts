import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  AppKitError,
  openRunFolder,
  readRunRecord,
  recordRun,
  retireFolder,
  startRunEvent,
  writeJsonLines,
  writeOutputFolder,
} from "../src/index.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "app-kit-run-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("run folders", () => {
  it("opens a folder and keeps what it holds (outputs are replaced only through output folders)", () => {
    const dir = openRunFolder(path.join(tmp, "a"));
    fs.writeFileSync(path.join(dir, "old.txt"), "x");
    expect(fs.existsSync(path.join(openRunFolder(dir), "old.txt"))).toBe(true);
    expect(path.isAbsolute(dir)).toBe(true);
  });

  it("writes JSON Lines atomically", () => {
    const file = path.join(tmp, "b", "rows.jsonl");
    writeJsonLines(file, [{ a: 1 }, { a: 2 }]);
    expect(fs.readFileSync(file, "utf8")).toBe('{"a":1}\n{"a":2}\n');
    expect(fs.readdirSync(path.dirname(file))).toEqual(["rows.jsonl"]);
  });
});

describe("run.json", () => {
  const runDir = path.join(tmp, "run");
  const config = { data: path.join(runDir, "data", "x.parquet"), hub: "Qwen/Qwen1.5-0.5B", n: 3 };
  const info = { format: "toy-run", app: import.meta.url, seed: 7, config };

  it("records config (paths relative to the run folder), versions, git, seed and events in order", () => {
    const first = startRunEvent("train").end({ steps: 2 });
    recordRun(runDir, info, first);
    const second = recordRun(runDir, info, startRunEvent("compare").end());
    const onDisk = readRunRecord(runDir)!;
    expect(onDisk).toEqual(JSON.parse(JSON.stringify(second)));
    expect(onDisk).toMatchObject({ format: "toy-run", version: 1, seed: 7, createdAt: first.startedAt });
    expect(onDisk.config).toEqual({ data: path.join("data", "x.parquet"), hub: "Qwen/Qwen1.5-0.5B", n: 3 });
    expect(onDisk.events.map((e) => [e.command, e.details])).toEqual([
      ["train", { steps: 2 }],
      ["compare", undefined],
    ]);
    expect(onDisk.events[0]!.wallS).toBeGreaterThanOrEqual(0);
    expect(onDisk.versions).toMatchObject({ node: process.version, "@difflens/app-kit": "0.1.0" });
    expect(onDisk.versions["@difflens/common"]).toMatch(/^\d+\.\d+\.\d+/);
    expect(onDisk.versions["@difflens/runtime"]).toMatch(/^\d+\.\d+\.\d+/);
    expect(JSON.stringify(onDisk)).not.toContain(tmp);
  });

  it("is null for a new folder and a clear error when corrupt", () => {
    expect(readRunRecord(path.join(tmp, "none"))).toBeNull();
    const bad = openRunFolder(path.join(tmp, "bad"));
    fs.writeFileSync(path.join(bad, "run.json"), "{");
    expect(() => readRunRecord(bad)).toThrow(AppKitError);
    expect(() => readRunRecord(bad)).toThrow(/run\.json: not valid JSON/);
  });
});

describe("run.json is an append-only log", () => {
  it("keeps its header; an event run under another config or seed carries its own", () => {
    const dir = path.join(tmp, "append");
    const info = { format: "toy-run", app: import.meta.url, seed: 1, config: { n: 1 } };
    recordRun(dir, info, startRunEvent("a").end());
    recordRun(dir, info, startRunEvent("b").end());
    const third = recordRun(dir, { ...info, seed: 2, config: { n: 2 } }, startRunEvent("c").end());
    expect(third).toMatchObject({ seed: 1, config: { n: 1 } });
    expect(third.events.map((e) => [e.command, e.config, e.seed])).toEqual([
      ["a", undefined, undefined],
      ["b", undefined, undefined],
      ["c", { n: 2 }, 2],
    ]);
  });
});

describe("output folders", () => {
  it("refuse a non-empty destination unless forced, then swap the new one in whole", async () => {
    const dest = path.join(tmp, "out");
    fs.mkdirSync(dest, { recursive: true });
    fs.writeFileSync(path.join(dest, "old.txt"), "old");
    await expect(writeOutputFolder(dest, () => undefined)).rejects.toThrow(/OUTPUT_EXISTS|already exists/);
    const crash = () => {
      throw new Error("crash");
    };
    await expect(writeOutputFolder(dest, crash, { force: true })).rejects.toThrow("crash");
    expect(fs.readdirSync(dest)).toEqual(["old.txt"]); // untouched by the failed write
    await writeOutputFolder(dest, (d) => fs.writeFileSync(path.join(d, "new.txt"), "new"), { force: true });
    expect(fs.readdirSync(dest)).toEqual(["new.txt"]);
    expect(fs.readdirSync(tmp).filter((f) => f.startsWith(".out."))).toEqual([]);
  });

  it("retire a folder aside, never deleting it", () => {
    const dir = path.join(tmp, "stage");
    fs.mkdirSync(dir);
    const aside = retireFolder(dir, new Date("2025-01-02T03:04:05.678Z"))!;
    expect(path.basename(aside)).toBe("stage.retired-20250102T030405Z");
    expect(retireFolder(dir)).toBeNull();
    expect(fs.existsSync(aside)).toBe(true);
  });
});
