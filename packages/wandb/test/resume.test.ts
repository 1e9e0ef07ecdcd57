import { appendFileSync, existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { init, WandbError } from "../src/index.ts";
import { localHistory, TEST_STREAM, tempDir } from "./helpers/harness.ts";

const options = (dir: string, extra: Record<string, unknown> = {}) => ({
  project: "p",
  mode: "offline",
  dir,
  silent: true,
  stream: TEST_STREAM,
  ...extra,
});

describe("resume (a job continued from its checkpoint)", () => {
  it("reopens the run's folder, skips the replayed steps and continues its history", async () => {
    const dir = tempDir("resume");
    const first = init(options(dir, { id: "job1", config: { lr: 1 } }));
    for (let step = 1; step <= 6; step++) first.log({ loss: 1 / step }, step);
    // Killed at step 6 (no finish), with a torn last line; the checkpoint was at step 4.
    appendFileSync(join(first.folder!, "history.jsonl"), '{"loss":0.1,"_st');
    const again = init(options(dir, { id: "job1", resume: "allow", config: { lr: 1, resumed: true } }));
    expect(again.folder).toBe(first.folder);
    expect(again.step).toBe(6);
    for (let step = 5; step <= 8; step++) again.log({ loss: 1 / step }, step);
    await again.finish({ exitCode: 0 });
    expect(readdirSync(dir)).toHaveLength(1);
    expect(localHistory(again.folder!).map((r) => r["_step"])).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(() => init(options(dir, { id: "job1", resume: "allow" })).log({ loss: 0 })).not.toThrow();
  });

  it("starts the run when its folder is gone (allow), refuses (must), and needs an id", () => {
    const dir = tempDir("resume-new");
    expect(init(options(dir, { id: "job2", resume: "allow" })).folder).toMatch(/run-\d{8}_\d{6}-job2$/);
    expect(() => init(options(tempDir("resume-none"), { id: "job3", resume: "must" }))).toThrow(/RUN_NOT_FOUND/);
    expect(() => init(options(dir, { resume: "allow" }))).toThrow(WandbError);
    expect(existsSync(join(dir, "run.json"))).toBe(false);
  });
});
