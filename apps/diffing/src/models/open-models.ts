/**
 * The base and chat models of a pipeline, their tokenizer and the chat template: real folders, or the generated
 * toy pair (whose chat model is the base with the planted PEFT LoRA merged in, or the base itself for the control).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { bundledChatTemplate, loadChatTemplateFromFolder, type ChatTemplate } from "@difflens/chat";
import { loadLoraAdapter, loadModel, mergeLora, resolveModelFolder, type Model } from "@difflens/runtime";
import { loadTokenizer, type Tokenizer } from "@difflens/tokenizer";
import { ParquetDataset, textRows } from "@difflens/data";
import type { DiffingConfig } from "../config/diffing-config.ts";
import type { ModelRef } from "../config/sections.ts";
import { ensureToyFiles } from "../toy/toy-files.ts";

export interface PipelineModels {
  readonly base: Model;
  readonly chat: Model;
  readonly tokenizer: Tokenizer;
  readonly template: ChatTemplate;
  /** Human-readable provenance of each model (recorded in stage.json and run.json). */
  readonly describe: { readonly base: string; readonly chat: string };
  /** The toy's planted direction u, when the models are the toy pair with its plant. */
  readonly planted: Float32Array | null;
  close(): void;
}

/** Loads a model reference: the folder, with its PEFT LoRA adapter merged by the runtime when one is named. */
export async function openModelRef(ref: ModelRef): Promise<Model> {
  const model = await loadModel(ref.path);
  return ref.adapter === null ? model : mergeLora(model, await loadLoraAdapter(ref.adapter));
}

export function describeRef(ref: ModelRef): string {
  return ref.adapter === null ? ref.path : `${ref.path} + LoRA ${ref.adapter}`;
}

export async function openPipelineModels(config: DiffingConfig, log: (line: string) => void): Promise<PipelineModels> {
  if (config.toy !== null) {
    const toy = config.toy;
    const calibrationTexts = async function* () {
      const ds = await ParquetDataset.open(config.textData.files);
      yield* textRows(ds, config.textData.column, { shuffle: false, seed: 0 });
    };
    const files = await ensureToyFiles({ seed: toy.seed, plantScale: toy.plantScale, cacheDir: toy.cacheDir, calibrationTexts, log });
    const base = await loadModel(files.baseDir);
    const chat = toy.plant ? mergeLora(base, await loadLoraAdapter(files.adapterDir)) : base;
    const rel = (p: string) => path.relative(config.runDir, p);
    return {
      base, chat,
      tokenizer: loadTokenizer(files.baseDir),
      template: loadChatTemplateFromFolder(files.baseDir),
      describe: { base: `toy base ${rel(files.baseDir)}`, chat: toy.plant ? `toy base + LoRA ${rel(files.adapterDir)}` : "toy base (control: no plant)" },
      planted: toy.plant ? files.planted : null,
      close: () => base.close(),
    };
  }
  const baseRef = config.baseModel!, chatRef = config.chatModel!;
  const base = await openModelRef(baseRef);
  const chat = await openModelRef(chatRef);
  return {
    base, chat,
    tokenizer: loadTokenizer(baseRef.path),
    template: chatTemplateFor(chatRef),
    describe: { base: describeRef(baseRef), chat: describeRef(chatRef) },
    planted: null,
    close: () => { base.close(); chat.close(); },
  };
}

/** The chat model's own template (its folder, then the adapter's), else Qwen1.5-Chat's bundled one. */
export function chatTemplateFor(ref: ModelRef): ChatTemplate {
  for (const folder of [ref.adapter, resolveModelFolder(ref.path)]) {
    if (folder === null) continue;
    const cfg = path.join(folder, "tokenizer_config.json");
    if (fs.existsSync(path.join(folder, "chat_template.jinja")) || (fs.existsSync(cfg) && /"chat_template"/.test(fs.readFileSync(cfg, "utf8")))) {
      return loadChatTemplateFromFolder(folder);
    }
  }
  return bundledChatTemplate("qwen1.5-chat");
}
