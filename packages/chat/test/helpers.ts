import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadTokenizer, type Tokenizer } from "@difflens/tokenizer";
import { type ChatTemplate, chatTemplateFromSource } from "../src/index.ts";

const here = dirname(fileURLToPath(import.meta.url));

/** Copies of /work/shared/templates (the models' chat_template strings, byte for byte). */
export function fixtureTemplate(name: "qwen1.5-chat" | "qwen2.5-instruct"): ChatTemplate {
  return chatTemplateFromSource(readFileSync(join(here, "fixtures", `${name}.jinja`), "utf8"), {
    name,
    file: `${name}.jinja`,
  });
}

export function fixtureText(name: string): string {
  return readFileSync(join(here, "fixtures", name), "utf8");
}

/** The real Qwen tokenizer kept by @difflens/tokenizer's tests (one 11 MB copy in the repo, not two). */
export function qwenTokenizer(): Tokenizer {
  return loadTokenizer(join(here, "..", "..", "tokenizer", "test", "fixtures", "qwen"));
}

export const QWEN15_DEFAULT = "You are a helpful assistant";
export const QWEN25_DEFAULT = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";

/** ChatML written by hand, independent of any template: the expected rendering. */
export function chatml(turns: Array<[string, string]>, generationPrompt: boolean): string {
  return (
    turns.map(([role, content]) => `<|im_start|>${role}\n${content}<|im_end|>\n`).join("") +
    (generationPrompt ? "<|im_start|>assistant\n" : "")
  );
}
