import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { discoverRuns, kindOf } from "../src/runs/discover.ts";
import { readRunJson, readRunJsonLines, resolveRunPath } from "../src/runs/read-run-file.ts";
import { runSummary } from "../src/runs/run-summary.ts";
import { linkOutside, writeRunsFixture } from "./server-runs-fixture.ts";

let root: string;
let outside: string;
beforeAll(() => {
  root = writeRunsFixture();
  outside = linkOutside(root, "linked");
});
afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
  fs.rmSync(outside, { recursive: true, force: true });
});

describe("discoverRuns", () => {
  it("finds nested runs and follow-ups by kind, never inside wandb/, node_modules, dot-folders, checkpoints or links", async () => {
    const runs = await discoverRuns(root);
    expect(runs.map((r) => [r.id, r.kind])).toEqual([
      ["broken", "diffing"],
      ["diffing/toy", "diffing"],
      ["odd", "unknown"],
      ["readouts/am", "readouts-attention-marker"],
      ["readouts/am/follow-ups/dla", "readouts-follow-up"],
      ["readouts/sae", "readouts-sae-conditions"],
      ["readouts/steer-run", "readouts-steer"],
    ]);
    expect(runs.every((r) => r.dir.startsWith(fs.realpathSync(root)))).toBe(true);
  });

  it("lists a run whose run.json is truncated, with an error panel naming the file and where it stops", async () => {
    const broken = (await discoverRuns(root)).find((r) => r.id === "broken")!;
    expect(broken.runJson).toBeNull();
    expect(broken.errors).toHaveLength(1);
    expect(broken.errors[0]!.file).toBe("run.json");
    expect(broken.errors[0]!.message).toMatch(/^run\.json:1:\d+: not valid JSON \(truncated\?\)/);
    expect(runSummary(broken).errors).toEqual(broken.errors);
  });

  it("gives the root itself the id '.'", async () => {
    const runs = await discoverRuns(path.join(root, "readouts", "am"));
    expect(runs.map((r) => r.id)).toEqual([".", "follow-ups/dla"]);
  });

  it("tells kinds apart by format, then command, then config shape", () => {
    expect(kindOf({ format: "difflens-readouts-run", config: { interventions: [] } })).toBe("readouts-steer");
    expect(kindOf({ format: "difflens-readouts-run", config: { personas: [] } })).toBe("readouts-attention-marker");
    expect(kindOf({ format: "difflens-readouts-run", config: { trackA: {} } })).toBe("readouts-sae-conditions");
    expect(kindOf({ format: "difflens-readouts-patch" })).toBe("readouts-follow-up");
    expect(kindOf({ format: "difflens-readouts-run" })).toBe("unknown");
  });
});

describe("runSummary", () => {
  it("gives name, dates, facts and lineage as text", async () => {
    const runs = await discoverRuns(root);
    const sae = runSummary(runs.find((r) => r.id === "readouts/sae")!);
    expect(sae.name).toBe("sae");
    expect(sae.createdAt).toBe("2026-12-07T10:00:00.000Z");
    expect(sae.facts).toMatchObject({ model: "../../models/base", layers: "1, 2", conditions: "a, b" });
    expect(sae.lineage).toContain("SAE L1: ../../diffing/toy/stages/D");
    const dla = runSummary(runs.find((r) => r.id === "readouts/am/follow-ups/dla")!);
    expect(dla.name).toBe("am · dla");
    expect(dla.lineage).toEqual(["follow-up of readouts/am"]);
    expect(runSummary(runs.find((r) => r.id === "diffing/toy")!).facts).toMatchObject({ dSae: "32", k: "4" });
  });
});

describe("read-run-file", () => {
  const run = () => ({ dir: fs.realpathSync(path.join(root, "readouts", "sae")) });

  it("names file, line and column of malformed JSON, and the line of a bad JSONL line", async () => {
    await expect(readRunJson(run(), "figures/track-a-layer1-pair0.json")).rejects.toMatchObject({
      code: "RUN_FILE_INVALID",
      facts: { file: "figures/track-a-layer1-pair0.json", line: 1 },
    });
    fs.writeFileSync(path.join(run().dir, "lines.jsonl"), '{"a": 1}\n\n{"b": \n');
    await expect(readRunJsonLines(run(), "lines.jsonl")).rejects.toMatchObject({
      facts: { file: "lines.jsonl", line: 3 },
    });
    await expect(readRunJson(run(), "nope.json")).rejects.toMatchObject({
      code: "NOT_FOUND",
      facts: { file: "nope.json" },
    });
  });

  it("refuses paths that leave the run folder", async () => {
    for (const rel of ["../am/results.json", "figures/../../am/run.json", "/etc/passwd", "a\0b", "", "figures"]) {
      await expect(resolveRunPath(run(), rel)).rejects.toMatchObject({ code: "FORBIDDEN" });
    }
    fs.symlinkSync(outside, path.join(run().dir, "out"));
    await expect(resolveRunPath(run(), "out/secret.txt")).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect(await resolveRunPath(run(), "figures/gates.json").catch((e) => e.code)).toBe("NOT_FOUND");
  });
});
