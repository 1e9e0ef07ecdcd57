import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Tokenizer } from "@difflens/tokenizer";
import { beforeAll, describe, expect, it } from "vitest";
import {
  alpacaToMessages,
  ChatError,
  chatTemplateFromSource,
  conditionLabel,
  firstAssistantToken,
  lastPromptToken,
  loadChatTemplate,
  parseSystemCondition,
  positionsOfToken,
  renderChat,
  resolveTokenizeChatOptions,
  SystemConditions,
  tokenizeChat,
} from "../src/index.ts";
import { fixtureTemplate, qwenTokenizer } from "./helpers.ts";

let tok: Tokenizer;
beforeAll(() => {
  tok = qwenTokenizer();
});

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof ChatError) return e.code;
    throw e;
  }
  return "no error";
}

describe("renderChat", () => {
  it("refuses a condition when the messages already carry a system turn", () => {
    const messages = [
      { role: "system", content: "x" },
      { role: "user", content: "y" },
    ];
    expect(
      codeOf(() => renderChat(fixtureTemplate("qwen2.5-instruct"), messages, { condition: SystemConditions.empty() })),
    ).toBe("CONDITION_CONFLICT");
    // Without a condition the system message is rendered as given, not flagged inserted.
    const rendered = renderChat(fixtureTemplate("qwen2.5-instruct"), messages);
    expect(rendered.turns[0]!.inserted).toBe(false);
    expect(rendered.turns[0]!.messageIndices).toEqual([0]);
  });

  it("fails loudly when a template rewrites content instead of copying it", () => {
    const trimming = chatTemplateFromSource(
      "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content | trim }}<|im_end|>\n{% endfor %}",
    );
    expect(renderChat(trimming, [{ role: "user", content: "plain" }]).text).toBe("<|im_start|>user\nplain<|im_end|>\n");
    expect(codeOf(() => renderChat(trimming, [{ role: "user", content: "  padded  " }]))).toBe(
      "TEMPLATE_TRANSFORMS_CONTENT",
    );
    const dropping = chatTemplateFromSource(
      "{% for m in messages %}{% if m.role != 'system' %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endif %}{% endfor %}",
    );
    expect(
      codeOf(() =>
        renderChat(dropping, [
          { role: "system", content: "s" },
          { role: "user", content: "u" },
        ]),
      ),
    ).toBe("TEMPLATE_TRANSFORMS_CONTENT");
  });

  it("rejects templates without ChatML turns", () => {
    const plain = chatTemplateFromSource("{% for m in messages %}### {{ m.role }}: {{ m.content }}\n{% endfor %}");
    expect(codeOf(() => renderChat(plain, [{ role: "user", content: "hi" }]))).toBe("TEMPLATE_NOT_CHATML");
  });

  it("works for another ChatML template: Qwen3's, with its <think> block in the assistant turn", async () => {
    const configPath = fileURLToPath(
      new URL("../../tokenizer/test/fixtures/qwen/tokenizer_config.json", import.meta.url),
    );
    const qwen3 = loadChatTemplate(readFileSync(configPath, "utf8"), { file: configPath });
    const messages = [
      { role: "user", content: "2+2?" },
      { role: "assistant", content: "4" },
    ];
    const chat = await tokenizeChat(tok, qwen3, messages, { condition: SystemConditions.modelDefault() });
    expect(chat.text).toBe(
      "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n4<|im_end|>\n",
    );
    expect(chat.rendered.turns.map((t) => [t.role, t.inserted])).toEqual([
      ["user", false],
      ["assistant", false],
    ]);
    const assistant = chat.rendered.turns[1]!;
    expect(chat.text.slice(assistant.content.start, assistant.content.end)).toBe("4");
    const structural = chat.segmentationA.regions.find((r) => r.name === "assistant[0].structural")!;
    expect(await tok.decode(Array.from(structural.positions, (p) => chat.ids[p] as number))).toBe(
      "<|im_start|><think>\n\n</think>\n\n<|im_end|>\n",
    );
    // Content with </think> is split by that template: refused rather than misplaced.
    expect(
      codeOf(() =>
        renderChat(qwen3, [
          { role: "user", content: "q" },
          { role: "assistant", content: "a</think>b" },
        ]),
      ),
    ).toBe("TEMPLATE_TRANSFORMS_CONTENT");
  });
});

describe("positions", () => {
  it("finds the first assistant token, the last prompt token and every occurrence of an id", async () => {
    const messages = [
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Hello there" },
      { role: "user", content: "Bye" },
    ];
    const chat = await tokenizeChat(tok, fixtureTemplate("qwen1.5-chat"), messages, {
      addGenerationPrompt: true,
      condition: SystemConditions.modelDefault(),
    });
    const first = firstAssistantToken(chat)!;
    expect(await tok.decode([chat.ids[first] as number])).toBe("Hello");
    expect(chat.ids[first - 1]).toBe(198);
    expect(lastPromptToken(chat)).toBe(chat.ids.length - 1);
    expect(await tok.decode([chat.ids[lastPromptToken(chat)] as number])).toBe("\n");
    expect(positionsOfToken(chat, 151644).length).toBe(5); // system, user, assistant, user, generation prompt
    const single = await tokenizeChat(tok, fixtureTemplate("qwen1.5-chat"), [{ role: "user", content: "Hi" }], {
      addGenerationPrompt: true,
    });
    expect(firstAssistantToken(single)).toBeNull();
  });
});

describe("conditions", () => {
  it("parses labels and objects, and names bad input", () => {
    expect(parseSystemCondition("model-default")).toEqual({ kind: "model-default" });
    expect(parseSystemCondition("custom:You are a pirate: arr")).toEqual({
      kind: "custom",
      text: "You are a pirate: arr",
    });
    expect(parseSystemCondition({ kind: "no-system-turn" })).toEqual({ kind: "no-system-turn" });
    expect(parseSystemCondition({ kind: "custom", text: "" })).toEqual({ kind: "custom", text: "" });
    expect(conditionLabel(SystemConditions.custom("x"))).toBe("custom:x");
    for (const bad of ["default", { kind: "custom" }, { kind: "empty", text: "x" }, 3]) {
      expect(codeOf(() => parseSystemCondition(bad))).toBe("INVALID_CONDITION");
    }
  });
});

describe("Alpaca rows", () => {
  const row = { instruction: "Classify the sentiment.", input: "I love it", output: "positive" };
  it("puts the instruction in the user turn by default", () => {
    expect(alpacaToMessages(row)).toEqual([
      { role: "user", content: "Classify the sentiment.\n\nI love it" },
      { role: "assistant", content: "positive" },
    ]);
    expect(alpacaToMessages({ instruction: "Say hi.", input: "", output: "hi" }, { includeOutput: false })).toEqual([
      { role: "user", content: "Say hi." },
    ]);
  });
  it("puts the instruction in the system turn as seed 003's data preparation did", () => {
    expect(alpacaToMessages(row, { instructionIn: "system" })).toEqual([
      { role: "system", content: "Classify the sentiment." },
      { role: "user", content: "I love it" },
      { role: "assistant", content: "positive" },
    ]);
    expect(
      alpacaToMessages({ instruction: "Say hi.", output: "hi" }, { instructionIn: "system" }).map((m) => m.role),
    ).toEqual(["system", "assistant"]);
    expect(
      alpacaToMessages(
        { instruction: "Say hi.", output: "hi" },
        { instructionIn: "system", emptyInput: "empty-turn" },
      ).map((m) => m.role),
    ).toEqual(["system", "user", "assistant"]);
  });
  it("renders through a template with the instruction as system content", async () => {
    const chat = await tokenizeChat(
      tok,
      fixtureTemplate("qwen1.5-chat"),
      alpacaToMessages(row, { instructionIn: "system" }),
    );
    expect(chat.rendered.turns.map((t) => [t.role, t.inserted])).toEqual([
      ["system", false],
      ["user", false],
      ["assistant", false],
    ]);
  });
  it("rejects rows without an instruction", () => {
    expect(codeOf(() => alpacaToMessages({ input: "x" } as never))).toBe("INVALID_MESSAGE");
  });
});

describe("resolveTokenizeChatOptions", () => {
  it("parses a config object, condition label included, without touching the input", () => {
    const input = { condition: "custom:Be brief.", addGenerationPrompt: true, specials: ["<|im_end|>"] };
    const resolved = resolveTokenizeChatOptions(input);
    expect(resolved.condition).toEqual({ kind: "custom", text: "Be brief." });
    expect(resolved.addGenerationPrompt).toBe(true);
    expect(Object.isFrozen(resolved)).toBe(true);
    expect(input.condition).toBe("custom:Be brief.");
  });
  it("rejects unknown keys with the nearest valid one", () => {
    expect(() => resolveTokenizeChatOptions({ add_generation_prompt: true })).toThrow(
      /did you mean "addGenerationPrompt"/,
    );
    expect(() => resolveTokenizeChatOptions({ specials: "\n" })).toThrow(/INVALID_OPTION/);
    expect(() => resolveTokenizeChatOptions({ condition: "default" })).toThrow(/INVALID_CONDITION/);
  });
});
