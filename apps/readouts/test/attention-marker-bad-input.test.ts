/**
 * attention-marker refuses bad input through the CLI before anything is written: exit 2, one line naming the file
 * or field and what was expected. (A persona with no positives and an interrupted stage 1 are in the stage-1 test.)
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../src/cli/main.ts";
import { writeMarkerModels } from "./attention-marker-fixture.ts";

let dir: string;
let model: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "am-bad-input-"));
  model = (await writeMarkerModels(dir, ["plain"])).plain;
  fs.writeFileSync(path.join(dir, "questions.jsonl"), '{"question": "What is a cat?"}\n{"q": "oops"}\n');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function run(name: string, patch: Record<string, unknown>, extra: string[] = []) {
  const runDir = path.join(dir, `run-${name}`);
  const file = path.join(dir, `${name}.json`);
  const config = {
    personas: [{ name: "librarian", systemPrompt: "You are a librarian.", model }],
    questions: "builtin",
    runDir,
    wandb: { mode: "disabled" },
    ...patch,
  };
  fs.writeFileSync(file, JSON.stringify(config));
  const lines: string[] = [];
  const code = await main(["attention-marker", "--config", file, ...extra], (line) => lines.push(line));
  const errors = lines.filter((l) => l !== "" && !l.startsWith("backend:"));
  return { code, text: errors.join("\n"), file, runDir };
}

describe("attention-marker refuses bad input (exit 2, nothing written)", () => {
  it("a marker whose first token is not a vocabulary entry of its own: the nearest tokens listed", async () => {
    const r = await run("marker", { marker: "\n[ZLT]" });
    expect(r.code).toBe(2);
    expect(r.text).toMatch(/marker "\\n\[ZLT\]": .*merge with the text before them.*Nearest vocabulary tokens: /);
    expect(fs.existsSync(r.runDir)).toBe(false);
  });

  it("an unknown config key: the file and the nearest valid key", async () => {
    const r = await run("unknown-key", { runSeed: [1] });
    expect(r.code).toBe(2);
    expect(r.text).toContain(`${r.file}: unknown key "runSeed" in config — did you mean "runSeeds"?`);
  });

  it("a malformed questions line: file:line and the expected shape", async () => {
    const r = await run("questions", { questions: "questions.jsonl" });
    expect(r.code).toBe(2);
    expect(r.text).toMatch(/questions\.jsonl:2: expected \{"question": <non-empty string>\}, got \{"q": "oops"\}/);
    expect(fs.existsSync(r.runDir)).toBe(false);
  });

  it("a missing model folder, a layer beyond the model", async () => {
    const comparator = path.join(dir, "nope");
    const r = await run("no-model", { comparator });
    expect(r.code).toBe(2);
    expect(r.text).toContain(`comparator: ${comparator}`);
    expect(fs.existsSync(r.runDir)).toBe(false);
    const layers = await run("layers", { readout: { layers: [0, 5] } });
    expect(layers.code).toBe(2);
    expect(layers.text).toMatch(
      /readout\.layers: layer 5 is beyond personas\[0\]\.model .*has 2 layers\); expected 0–1/,
    );
  });

  it("a comparator with another vocabulary, before anything runs", async () => {
    const comparator = path.join(import.meta.dirname, "fixtures/attention-reference/model"); // a tiny BPE of its own
    const r = await run("vocabulary", { comparator });
    expect(r.code).toBe(2);
    expect(r.text).toMatch(
      /the comparator .*attention-reference\/model has another vocabulary than the trained model of persona librarian/,
    );
    expect(fs.existsSync(r.runDir)).toBe(false);
  });

  it("a later stage alone before stage 1 ran", async () => {
    const r = await run("stage-alone", {}, ["--stage", "readout"]);
    expect(r.code).toBe(2);
    expect(r.text).toMatch(/seed-42\.jsonl: 0 of 200 attempts generated; the later stages need stage 1 complete/);
    expect(fs.existsSync(r.runDir)).toBe(false);
  });

  it("bad flags: an unknown --stage (with the nearest), --plant with --config", async () => {
    const stage = await run("stage", {}, ["--stage", "readouts"]);
    expect(stage.code).toBe(2);
    expect(stage.text).toMatch(
      /--stage: expected one of generate, readout, force-feed, analyze, all, got "readouts" — did you mean "readout"\?/,
    );
    const plant = await run("plant", {}, ["--plant", "mlp"]);
    expect(plant.code).toBe(2);
    expect(plant.text).toMatch(/--plant applies to the embedded toy only/);
  });

  it("--dry-run checks the inputs and prints the plan, writing nothing", async () => {
    const r = await run("dry", { attempts: 10, runSeeds: [1, 2] }, ["--dry-run"]);
    expect(r.code).toBe(0);
    expect(r.text).toMatch(/marker: "\[ZLT\]" → token 85113; questions: 20 \(builtin\)/);
    expect(r.text).toMatch(/generate: 20 attempts \(1 personas × 2 run seeds \[1, 2\] × 10\)/);
    expect(fs.existsSync(r.runDir)).toBe(false);
  });
});
