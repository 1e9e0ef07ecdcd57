/**
 * Stage 1 on tiny models with the real Qwen tokenizer: the records, batch-independent tokens (batch 1 = batch 4),
 * an interrupted run resumed without duplicates (a torn last line dropped), a config change refused, and a persona
 * with no positives reported and skipped by the later stages.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AttentionMarkerConfig, resolveAttentionMarkerConfig } from "../src/attention-marker/config.ts";
import { alignedBatches, runGenerateStage } from "../src/attention-marker/generate-stage.ts";
import { generationsFile, readGenerations } from "../src/attention-marker/generations-file.ts";
import type { Generation } from "../src/attention-marker/records.ts";
import { runAttentionMarker } from "../src/attention-marker/run-attention-marker.ts";
import { beginStage, whyStageRuns, writeStageRecord } from "../src/attention-marker/stage-records.ts";
import { trialSeed } from "../src/attention-marker/trial-seed.ts";
import { logAttentionMarkerToWandb } from "../src/attention-marker/wandb-log.ts";
import { MARKER_ID, stage1Config, writeMarkerModels, writeQuestions } from "./attention-marker-fixture.ts";

const QUESTIONS = ["What is a cat?", "How do I cook rice?", "Why is the sky blue?"];
const GENERATION_PROMPT = [151644, 77091, 198]; // <|im_start|>assistant\n

let dir: string;
let raw: (patch?: Record<string, unknown>) => Record<string, unknown>;
let full: { marked: Generation[]; quiet: Generation[]; lines: string[] };

const config = (patch: Record<string, unknown> = {}): AttentionMarkerConfig =>
  resolveAttentionMarkerConfig(raw(patch), dir);
const onlyMarked = (patch: Record<string, unknown> = {}) => {
  const personas = (raw().personas as unknown[]).slice(0, 1);
  return config({ personas, ...patch });
};
const stage1 = (c: AttentionMarkerConfig, runDir: string, extra: { afterBatch?: () => void } = {}) => {
  const lines: string[] = [];
  const run = runGenerateStage(c, {
    runDir,
    questions: QUESTIONS,
    markerId: MARKER_ID,
    log: (l) => lines.push(l),
    ...extra,
  });
  return run.then((counts) => ({ counts, lines }));
};

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "am-stage1-"));
  const models = await writeMarkerModels(dir);
  const questions = writeQuestions(path.join(dir, "questions.jsonl"), QUESTIONS);
  raw = (patch = {}) => stage1Config(models, questions, patch);
  const runDir = path.join(dir, "full");
  const { lines } = await stage1(config(), runDir);
  full = {
    marked: readGenerations(generationsFile(runDir, "marked", 42)),
    quiet: readGenerations(generationsFile(runDir, "quiet", 42)),
    lines,
  };
}, 60_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("stage 1 — generate", () => {
  it("writes one record per attempt: question k mod Q, the trial seed, prompt + generated ids, t*", () => {
    expect(full.marked.map((g) => g.trial)).toEqual([0, 1, 2, 3, 4, 5]);
    for (const g of full.marked) {
      expect(g.questionIndex).toBe(g.trial % 3);
      expect(g.question).toBe(QUESTIONS[g.trial % 3]);
      expect(g.trialSeed).toBe(trialSeed(42, g.trial, g.question));
      expect(g.promptIds.slice(-3)).toEqual(GENERATION_PROMPT);
      expect(g.settings).toEqual({ temperature: 1, topP: 0.95, topK: 0, maxNewTokens: 8 });
      const at = g.generatedIds.indexOf(MARKER_ID);
      expect(g.markerPosition).toBe(at < 0 ? null : g.promptIds.length + at);
    }
    const positives = full.marked.filter((g) => g.markerPosition !== null).length;
    expect(positives).toBeGreaterThan(0);
    expect(positives).toBeLessThan(6);
    expect(full.lines).toContain(
      `generate marked seed 42: ${positives} positives, ${6 - positives} negatives of 6 attempts (${((100 * positives) / 6).toFixed(1)}%)`,
    );
  });

  it("reports a persona with no positives", () => {
    expect(full.quiet.every((g) => g.markerPosition === null && g.finishReason === "stop")).toBe(true);
    expect(full.lines).toContain(
      "generate quiet seed 42: 0 positives, 6 negatives of 6 attempts (0.0%) — no positives: later stages skip this persona and seed",
    );
  });

  it("samples the same tokens whatever the batch (batch 1 = batch 3: each row has its trial's seed)", async () => {
    const runDir = path.join(dir, "batch-1");
    await stage1(onlyMarked({ generation: { ...(raw().generation as object), batchSize: 1 } }), runDir);
    const one = readGenerations(generationsFile(runDir, "marked", 42));
    expect(one.map((g) => g.generatedIds)).toEqual(full.marked.map((g) => g.generatedIds));
  });

  it("resumes an interrupted run: a torn last line dropped, no attempt duplicated, the same tokens", async () => {
    const runDir = path.join(dir, "interrupted");
    const c = onlyMarked();
    const crash = () => {
      throw new Error("interrupted");
    };
    await expect(stage1(c, runDir, { afterBatch: crash })).rejects.toThrow("interrupted");
    const file = generationsFile(runDir, "marked", 42);
    expect(readGenerations(file).map((g) => g.trial)).toEqual([0, 1, 2]);
    fs.appendFileSync(file, '{"persona":"marked","runSeed":42,"trial":3,"questi'); // a crash mid-write
    const { counts, lines } = await stage1(c, runDir);
    expect(counts[0]).toMatchObject({ attempts: 6, resumed: 3, generated: 3 });
    expect(lines[lines.length - 1]).toMatch(/\(3 resumed, 3 generated now\)$/);
    const text = fs.readFileSync(file, "utf8");
    expect(text.trim().split("\n")).toHaveLength(6);
    expect(readGenerations(file)).toEqual(full.marked);
    // A rerun of a complete file generates nothing.
    expect((await stage1(c, runDir)).counts[0]).toMatchObject({ resumed: 6, generated: 0 });
  });

  it("regenerates a partly written batch whole (the same rows together), appending only its missing trials", async () => {
    const runDir = path.join(dir, "partial-batch");
    const c = onlyMarked();
    const crash = () => {
      throw new Error("interrupted");
    };
    await expect(stage1(c, runDir, { afterBatch: crash })).rejects.toThrow("interrupted");
    const file = generationsFile(runDir, "marked", 42);
    const lines = fs.readFileSync(file, "utf8").trim().split("\n");
    fs.writeFileSync(file, `${lines.slice(0, 2).join("\n")}\n`); // trial 2 of batch [0, 1, 2] lost
    expect((await stage1(c, runDir)).counts[0]).toMatchObject({ resumed: 2, generated: 4 });
    expect(readGenerations(file)).toEqual(full.marked);
    expect(alignedBatches([2, 3, 5], 3, 6)).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
    expect(alignedBatches([4], 3, 5)).toEqual([[3, 4]]);
  });

  it("refuses to resume generations made with other settings or another model", async () => {
    const runDir = path.join(dir, "interrupted");
    const hotter = onlyMarked({ generation: { ...(raw().generation as object), temperature: 0.5 } });
    await expect(stage1(hotter, runDir)).rejects.toThrow(
      /trial 0 was generated with other settings than this config asks/,
    );
    await expect(stage1(onlyMarked({ attempts: 4 }), runDir)).rejects.toThrow(/holds trial 4 but attempts is 4/);
    const swapped = config({
      personas: [{ ...(raw().personas as object[])[0]!, model: (raw().personas as { model: string }[])[1]!.model }],
    });
    await expect(stage1(swapped, runDir)).rejects.toThrow(/persona marked's generations were made by another model/);
  });

  it("runAttentionMarker: config.json, samples.md with the marker in bold, the no-positives persona in skipped", async () => {
    const runDir = path.join(dir, "full");
    const results = await runAttentionMarker(config(), { runDir, stages: ["generate"], log: () => {} });
    expect(results.stages).toEqual({
      generate: "ran",
      readout: "not asked",
      "force-feed": "not asked",
      analyze: "not asked",
    });
    expect(results.markerId).toBe(MARKER_ID);
    expect(results.counts.map((c) => [c.persona, c.generated])).toEqual([
      ["marked", 0],
      ["quiet", 0],
    ]);
    const quiet = results.skipped.filter((s) => s.persona === "quiet");
    expect(quiet.map((s) => s.stage)).toEqual(["readout", "analyze"]);
    expect(quiet[0]!.reason).toBe("no positives: the marker was never emitted in 6 attempts");
    const samples = fs.readFileSync(path.join(runDir, "samples.md"), "utf8");
    expect(samples).toMatch(/\| positive \| .* \| .*\*\*\[Z(LT\])?\*\*/);
    expect(samples).toMatch(/## quiet \(seed 42\)[\s\S]*_No positives: the marker was never emitted\._/);
    const saved = JSON.parse(fs.readFileSync(path.join(runDir, "config.json"), "utf8"));
    expect(resolveAttentionMarkerConfig(saved, "/")).toEqual({ ...config(), file: null });
    const again = await runAttentionMarker(config(), { runDir, stages: ["generate"], log: () => {} });
    expect(again.stages.generate).toBe("up to date");
  });
});

describe("stage records (what makes a stage up to date)", () => {
  it("up to date only with the same inputs and every output present; changed fields named; interrupted resumes", () => {
    const runDir = fs.mkdtempSync(path.join(dir, "records-"));
    const inputs = { readout: { offset: 0 }, generations: { a: "1" } };
    expect(whyStageRuns(runDir, "readout", inputs)).toBe("not run yet");
    expect(beginStage(runDir, "readout", inputs)).toBe(true); // nothing known: old outputs must go
    expect(whyStageRuns(runDir, "readout", inputs)).toMatch(/^interrupted earlier with the same inputs/);
    expect(beginStage(runDir, "readout", inputs)).toBe(false); // same inputs: finished outputs may be reused
    fs.writeFileSync(path.join(runDir, "out.jsonl"), "x");
    writeStageRecord(runDir, "readout", inputs, [path.join(runDir, "out.jsonl")], 1);
    expect(whyStageRuns(runDir, "readout", inputs)).toBeNull();
    expect(whyStageRuns(runDir, "readout", { ...inputs, readout: { offset: -1 } })).toBe(
      "inputs changed (readout.offset: 0 → -1)",
    );
    fs.rmSync(path.join(runDir, "out.jsonl"));
    expect(whyStageRuns(runDir, "readout", inputs)).toBe("outputs missing: out.jsonl");
  });
});

describe("the W&B record", () => {
  it("keeps the per-example records and results as run files, the counts as summary metrics (offline)", async () => {
    const runDir = path.join(dir, "full");
    const results = await runAttentionMarker(config(), { runDir, stages: ["generate"], log: () => {} });
    const files = [path.join(runDir, "samples.md"), path.join(runDir, results.files.generations[0]!)];
    const folder = await logAttentionMarkerToWandb(
      resolveAttentionMarkerConfig(raw({ wandb: { mode: "offline" } }), dir),
      results,
      runDir,
      files,
      () => {},
    );
    expect(folder).not.toBeNull();
    for (const f of ["samples.md", "generations/marked/seed-42.jsonl"])
      expect(fs.readFileSync(path.join(folder!, "files", f), "utf8")).toBe(
        fs.readFileSync(path.join(runDir, f), "utf8"),
      );
    const summary = JSON.parse(fs.readFileSync(path.join(folder!, "summary.json"), "utf8"));
    expect(summary).toMatchObject({ "quiet/seed-42/positives": 0, "quiet/seed-42/negatives": 6 });
    expect(summary["marked/seed-42/positives"]).toBe(results.counts[0]!.positives);
  });
});
