/**
 * Issue 8's end-to-end check: the `train` command trains a tiny SAE on a tiny random Qwen2 over the Pile-like
 * fixture, `finetune` continues it on the Alpaca-like fixture (lineage recorded), and `--resume` continues a run.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { writeRandomQwen2Folder } from "@difflens/runtime";
import { useBackend } from "@difflens/tensor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main, qwenTokenizerFile } from "../src/index.ts";

const REPO = path.resolve(__dirname, "../../..");
let dir: string;
const lines: string[] = [];
const log = (l: string) => lines.push(l);

beforeAll(async () => {
  useBackend("auto");
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "diffing-train-"));
  const model = path.join(dir, "model");
  await writeRandomQwen2Folder(model, {
    config: { vocabSize: 151936, dModel: 32, nLayers: 2, nHeads: 2, dMlp: 64, tieWordEmbeddings: true },
    seed: 5,
  });
  fs.copyFileSync(qwenTokenizerFile(), path.join(model, "tokenizer.json"));
  fs.copyFileSync(
    path.join(path.dirname(qwenTokenizerFile()), "tokenizer_config.json"),
    path.join(model, "tokenizer_config.json"),
  );
  const common = {
    model: "model",
    hook: "blocks.1.hook_resid_pre",
    sae: { dSae: 64, k: 4, batchSize: 256, lrWarmupSteps: 2, checkpointEverySteps: 5 },
    tokens: 256 * 12,
    harvest: { windowsPerForward: 8, shuffleRows: 2048 },
    wandb: { mode: "offline" },
  };
  fs.writeFileSync(
    path.join(dir, "train.json"),
    JSON.stringify({
      ...common,
      textData: { files: [path.join(REPO, "datasets/pile-tiny/train.parquet")], contextSize: 32 },
      outDir: "runs/s",
    }),
  );
  fs.writeFileSync(
    path.join(dir, "finetune.json"),
    JSON.stringify({
      ...common,
      chatData: { files: [path.join(REPO, "datasets/alpaca-tiny/train.parquet")], contextSize: 96 },
      outDir: "runs/d",
    }),
  );
}, 60_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("train and finetune commands", () => {
  it("trains from scratch, then finetunes with lineage", async () => {
    expect(await main(["train", "--config", path.join(dir, "train.json")], log)).toBe(0);
    const trained = JSON.parse(fs.readFileSync(path.join(dir, "runs/s/train.json"), "utf8"));
    expect(trained.step).toBe(12);
    expect(trained.final.l0).toBe(4);
    expect(fs.existsSync(path.join(dir, "runs/s/run.json"))).toBe(true);
    expect(fs.readdirSync(path.join(dir, "runs/s/wandb")).length).toBe(1);

    expect(
      await main(["finetune", "--from", path.join(dir, "runs/s"), "--config", path.join(dir, "finetune.json")], log),
    ).toBe(0);
    const ft = JSON.parse(fs.readFileSync(path.join(dir, "runs/d/train.json"), "utf8"));
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, "runs/d", ft.checkpoint, "cfg.json"), "utf8"));
    expect(cfg.difflens.lineage[0].path).toContain(path.join("runs", "s", "checkpoints"));
    expect(cfg.difflens.lineage[0].step).toBe(12);
    expect(cfg.difflens.hookName).toBe("blocks.1.hook_resid_pre");
  }, 60_000);

  it("refuses to overwrite a run without --resume, and resumes with it", async () => {
    expect(await main(["train", "--config", path.join(dir, "train.json")], log)).toBe(2);
    expect(lines.at(-1)).toContain("pass --resume");
    expect(await main(["train", "--config", path.join(dir, "train.json"), "--resume"], log)).toBe(0);
    expect(lines.some((l) => l.includes("resuming from step 12"))).toBe(true);
  }, 60_000);

  it("answers a typo'd flag or config key with the nearest valid one (exit 2)", async () => {
    expect(await main(["train", "--confg", "x.json"], log)).toBe(2);
    expect(lines.at(-1)).toContain('did you mean "--config"');
    fs.writeFileSync(
      path.join(dir, "bad.json"),
      JSON.stringify({ model: "model", tokens: 10, sae: { dSae: 8, kk: 2 }, textData: { files: ["a"] } }),
    );
    expect(await main(["train", "--config", path.join(dir, "bad.json")], log)).toBe(2);
    expect(lines.at(-1)).toContain('did you mean "k"');
  });
});
