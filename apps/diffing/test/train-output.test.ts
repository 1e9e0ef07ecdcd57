/**
 * `train` / `finetune` output folders (issue 15): a non-empty --out is refused unless --resume (same fingerprint
 * only) or --force (trained beside it, swapped in when complete); a resumed run continues its metrics.jsonl and
 * its W&B run instead of writing the steps since the checkpoint twice and opening a second run.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { useBackend } from "@difflens/tensor";
import { parseWandbJson } from "@difflens/wandb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../src/index.ts";
import { ALPACA, PILE, writeConfig, writeTinyModel } from "./tiny-pipeline.ts";

let dir: string;
let lines: string[] = [];
const run = async (...argv: string[]) => {
  lines = [];
  return main(argv, (l) => lines.push(l));
};
const files = { train: "", finetune: "", otherSeed: "" };
const steps = (file: string, key: string) =>
  fs
    .readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((l) => (parseWandbJson(l) as Record<string, number>)[key]);

beforeAll(async () => {
  useBackend("auto");
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "diffing-train-out-"));
  await writeTinyModel(dir);
  const common = {
    model: "model",
    hook: "blocks.1.hook_resid_pre",
    tokens: 64 * 6,
    harvest: { windowsPerForward: 4, shuffleRows: 0 },
    sae: { dSae: 32, k: 2, batchSize: 64, lrWarmupSteps: 1, checkpointEverySteps: 4 },
    wandb: { mode: "offline" },
  };
  const text = { files: [PILE], contextSize: 16 };
  files.train = writeConfig(dir, "train.json", { ...common, textData: text, outDir: "runs/s" });
  files.otherSeed = writeConfig(dir, "seed1.json", {
    ...common,
    sae: { ...common.sae, seed: 1 },
    textData: text,
    outDir: "runs/s",
  });
  files.finetune = writeConfig(dir, "finetune.json", {
    ...common,
    chatData: { files: [ALPACA], contextSize: 64 },
    outDir: "runs/d",
  });
}, 60_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("train and finetune output folders", () => {
  it("a resumed run continues metrics.jsonl and its W&B run (no duplicate rows, no second run)", async () => {
    const out = path.join(dir, "runs/s");
    expect(await run("train", "--config", files.train)).toBe(0);
    // As if killed after step 6 was logged but before it was checkpointed: the last checkpoint is step 4.
    const latest = { checkpoint: "checkpoints/step-00000004", step: 4 };
    fs.writeFileSync(path.join(out, "latest.json"), JSON.stringify(latest));
    fs.rmSync(path.join(out, "checkpoints/step-00000006"), { recursive: true });
    expect(await run("train", "--config", files.train, "--resume")).toBe(0);
    expect(lines.join("\n")).toContain("resuming from step 4");
    expect(steps(path.join(out, "metrics.jsonl"), "step")).toEqual([1, 2, 3, 4, 5, 6]);
    const runs = fs.readdirSync(path.join(out, "wandb"));
    expect(runs).toHaveLength(1);
    expect(steps(path.join(out, "wandb", runs[0]!, "history.jsonl"), "_step")).toEqual([1, 2, 3, 4, 5, 6]);
  }, 60_000);

  it("refuses --resume under another config, and a non-empty --out without --resume or --force", async () => {
    expect(await run("train", "--config", files.otherSeed, "--resume")).toBe(2);
    expect(lines.join("\n")).toContain("FINGERPRINT_MISMATCH");
    expect(lines.join("\n")).toContain("sae.seed: 0 → 1");
    const into = path.join(dir, "runs/s");
    expect(await run("finetune", "--from", into, "--config", files.finetune, "--out", into)).toBe(2);
    expect(lines.join("\n")).toContain("OUTPUT_EXISTS");
  });

  it("--force trains beside the old folder and swaps the new one in", async () => {
    const out = path.join(dir, "runs/s");
    const before = fs.readFileSync(path.join(out, "fingerprint.json"), "utf8");
    expect(await run("train", "--config", files.otherSeed, "--force")).toBe(0);
    expect(fs.readFileSync(path.join(out, "fingerprint.json"), "utf8")).not.toBe(before);
    expect(JSON.parse(fs.readFileSync(path.join(out, "train.json"), "utf8")).step).toBe(6);
    expect(fs.readdirSync(path.join(dir, "runs")).sort()).toEqual(["s"]); // no temp or replaced folder left
  }, 60_000);
});
