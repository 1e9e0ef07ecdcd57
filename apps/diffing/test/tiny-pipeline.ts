/** A tiny random Qwen2 folder and a tiny pipeline config over the repository's fixture datasets (tests only). */
import * as fs from "node:fs";
import * as path from "node:path";
import { writeRandomQwen2Folder } from "@difflens/runtime";
import { qwenTokenizerFile } from "../src/index.ts";

export const REPO = path.resolve(__dirname, "../../..");
export const PILE = path.join(REPO, "datasets/pile-tiny/train.parquet");
export const ALPACA = path.join(REPO, "datasets/alpaca-tiny/train.parquet");

/** Writes <dir>/model: d_model 16, 2 layers, the real Qwen tokenizer. */
export async function writeTinyModel(dir: string): Promise<string> {
  const model = path.join(dir, "model");
  const config = { vocabSize: 151936, dModel: 16, nLayers: 2, nHeads: 2, dMlp: 32, tieWordEmbeddings: true };
  await writeRandomQwen2Folder(model, { config, seed: 5 });
  fs.copyFileSync(qwenTokenizerFile(), path.join(model, "tokenizer.json"));
  const tokenizerConfig = path.join(path.dirname(qwenTokenizerFile()), "tokenizer_config.json");
  fs.copyFileSync(tokenizerConfig, path.join(model, "tokenizer_config.json"));
  return model;
}

const tokens = { tokens: 3 * 64 };

/** A pipeline config whose five stages take 3 steps of 64 rows each; `patch` replaces top-level sections. */
export function tinyPipelineConfig(dir: string, patch: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: "tiny",
    runDir: path.join(dir, "run"),
    baseModel: path.join(dir, "model"),
    chatModel: path.join(dir, "model"),
    hook: "blocks.1.hook_resid_pre",
    textData: { files: [PILE], contextSize: 16 },
    chatData: { files: [ALPACA], contextSize: 64 },
    sae: { dSae: 32, k: 2, batchSize: 64, lrWarmupSteps: 1, checkpointEverySteps: 2 },
    stages: { S: tokens, D: tokens, M: tokens, DF: tokens, MF: tokens },
    harvest: { windowsPerForward: 4, shuffleRows: 0 },
    wandb: { mode: "disabled" },
    compare: { topK: 3 },
    features: { windows: 4, contexts: 2 },
    ...patch,
  };
}

/** Writes a config file and returns its path. */
export function writeConfig(dir: string, name: string, config: unknown): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify(config));
  return file;
}
