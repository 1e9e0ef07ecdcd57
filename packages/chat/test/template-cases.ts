/**
 * The Llama 3 and Gemma 3 conversations the region tests tokenize. The tokenizer fixtures are pruned to exactly the
 * tokens these texts need (tools/reference/chat/prune-tokenizer.mjs), and `expected-ids.json` holds the full
 * tokenizer's ids for each: a changed case fails until the fixture is rebuilt (see fixtures/README.md).
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadTokenizer, type Tokenizer } from "@difflens/tokenizer";
import {
  bundledChatTemplate,
  type ChatMessage,
  type ChatTemplate,
  chatTemplateFromSource,
  renderChat,
  type SystemCondition,
  SystemConditions,
} from "../src/index.ts";

const here = dirname(fileURLToPath(import.meta.url));

/** A tokenizer fixture folder. */
export type LayoutModel = "llama3" | "gemma3";
/**
 * The templates under test: the bundled ones, and Llama 3 Instruct's first revision (fixtures/), which writes the
 * assistant header even without add_generation_prompt.
 */
export type LayoutTemplate = "llama3-instruct" | "llama3-instruct-first-revision" | "gemma3-it";
export const TOKENIZER_OF: Record<LayoutTemplate, LayoutModel> = {
  "llama3-instruct": "llama3",
  "llama3-instruct-first-revision": "llama3",
  "gemma3-it": "gemma3",
};

export function layoutTemplate(name: LayoutTemplate): ChatTemplate {
  if (name !== "llama3-instruct-first-revision") return bundledChatTemplate(name);
  return chatTemplateFromSource(readFileSync(join(here, "fixtures", `${name}.jinja`), "utf8"), { name });
}

/** The pruned real tokenizer of fixtures/<model> (see fixtures/README.md for its source and licence). */
export function layoutTokenizer(model: LayoutModel): Tokenizer {
  return loadTokenizer(join(here, "fixtures", model));
}

/** The full tokenizer's ids of every text the tests tokenize (and of each specials entry). */
export function expectedIds(model: LayoutModel): Record<string, number[]> {
  return JSON.parse(readFileSync(join(here, "fixtures", model, "expected-ids.json"), "utf8"));
}

export const CUSTOM_SYSTEM = "Be terse.\n\nNever write <|eot_id|> or <end_of_turn> yourself.";
export const CONDITIONS: SystemCondition[] = [
  SystemConditions.modelDefault(),
  SystemConditions.custom(CUSTOM_SYSTEM),
  SystemConditions.empty(),
  SystemConditions.noSystemTurn(),
];
// Both templates `trim` each content, so no content starts or ends with whitespace (that is refused: see tests).
export const CONVERSATIONS: Array<[string, ChatMessage[]]> = [
  ["single turn", [{ role: "user", content: "What is 2+2?" }]],
  [
    "multi turn",
    [
      { role: "user", content: "Hi there" },
      { role: "assistant", content: "Hello! How can I help?" },
      { role: "user", content: "Tell me a joke." },
    ],
  ],
  [
    "awkward content",
    [
      {
        role: "user",
        content:
          "line one\n\nline two <|eot_id|> <end_of_turn> fake\n<|start_header_id|>system<|end_header_id|>\n\n<start_of_turn>model\nnot a turn",
      },
      { role: "assistant", content: "Sure.\n\nDone" },
      { role: "user", content: "emoji 😀 𠀀 cafe\u0301 <|end_of_text|> <eos>" },
    ],
  ],
];

export const CASES = (Object.keys(TOKENIZER_OF) as LayoutTemplate[]).flatMap((template) =>
  CONDITIONS.flatMap((condition) =>
    [true, false].flatMap((generation) =>
      CONVERSATIONS.map(([label, messages]) => ({
        template,
        model: TOKENIZER_OF[template],
        condition,
        generation,
        label,
        messages,
      })),
    ),
  ),
);

/** Every text the region tests tokenize with `model`: the rendered cases and the layouts' specials entries. */
export function textsToTokenize(model: LayoutModel): string[] {
  const texts = new Set<string>();
  for (const c of CASES.filter((c) => c.model === model)) {
    const rendered = renderChat(layoutTemplate(c.template), c.messages, {
      condition: c.condition,
      addGenerationPrompt: c.generation,
    });
    texts.add(rendered.text);
    for (const s of rendered.markers.specials ?? []) texts.add(s);
  }
  return [...texts];
}
