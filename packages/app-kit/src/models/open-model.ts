/**
 * Opening what a config names: one model with its tokenizer and chat template, or a (base, chat) pair. A chat model
 * given as the base plus a LoRA adapter (`{ path: <base>, adapter }`) is merged into the already loaded base, so the
 * pair holds the base weights once.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { bundledChatTemplate, type ChatTemplate, loadChatTemplateFromFolder } from "@difflens/chat";
import { loadLoraAdapter, loadModel, type Model, mergeLora, resolveModelFolder } from "@difflens/runtime";
import { loadTokenizer, type Tokenizer } from "@difflens/tokenizer";
import { describeModelRef, type ModelRef } from "./model-ref.ts";

export interface OpenedModel {
  readonly model: Model;
  readonly tokenizer: Tokenizer;
  readonly template: ChatTemplate;
  /** Provenance for logs and run records: `PATH` or `PATH + LoRA ADAPTER`. */
  readonly description: string;
  close(): void;
}

export interface ModelPair {
  readonly base: Model;
  readonly chat: Model;
  /** The base model's tokenizer (a chat model shares its base's vocabulary). */
  readonly tokenizer: Tokenizer;
  /** The chat model's template. */
  readonly template: ChatTemplate;
  readonly describe: { readonly base: string; readonly chat: string };
  close(): void;
}

/** The model of `ref`, with its PEFT LoRA adapter merged by the runtime when one is named. */
export async function loadModelRef(ref: ModelRef): Promise<Model> {
  const model = await loadModel(ref.path);
  return ref.adapter === null ? model : mergeLora(model, await loadLoraAdapter(ref.adapter));
}

export async function openModel(ref: ModelRef): Promise<OpenedModel> {
  const model = await loadModelRef(ref);
  return {
    model,
    tokenizer: loadTokenizer(ref.path),
    template: chatTemplateFor(ref),
    description: describeModelRef(ref),
    close: () => model.close(),
  };
}

export async function openModelPair(baseRef: ModelRef, chatRef: ModelRef): Promise<ModelPair> {
  const base = await loadModelRef(baseRef);
  const sharesBase = baseRef.adapter === null && chatRef.path === baseRef.path;
  let chat: Model;
  if (!sharesBase) chat = await loadModelRef(chatRef);
  else chat = chatRef.adapter === null ? base : await mergeLora(base, await loadLoraAdapter(chatRef.adapter));
  return {
    base,
    chat,
    tokenizer: loadTokenizer(baseRef.path),
    template: chatTemplateFor(chatRef),
    describe: { base: describeModelRef(baseRef), chat: describeModelRef(chatRef) },
    close: () => {
      base.close();
      if (!sharesBase) chat.close();
    },
  };
}

/** The model's own chat template (the adapter's folder, then the model's), else Qwen1.5-Chat's bundled one. */
export function chatTemplateFor(ref: ModelRef): ChatTemplate {
  for (const folder of [ref.adapter, resolveModelFolder(ref.path)]) {
    if (folder === null) continue;
    const tokenizerConfig = path.join(folder, "tokenizer_config.json");
    const inConfig = fs.existsSync(tokenizerConfig) && /"chat_template"/.test(fs.readFileSync(tokenizerConfig, "utf8"));
    if (inConfig || fs.existsSync(path.join(folder, "chat_template.jinja"))) return loadChatTemplateFromFolder(folder);
  }
  return bundledChatTemplate("qwen1.5-chat");
}
