import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { bundledChatTemplate, ChatError, loadChatTemplate, renderChat } from "../src/index.ts";
import { chatml, fixtureTemplate, fixtureText, QWEN15_DEFAULT, QWEN25_DEFAULT } from "./helpers.ts";

function chatErrorOf(fn: () => unknown): ChatError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ChatError) return e;
    throw e;
  }
  throw new Error("expected a ChatError");
}

describe("loading chat templates", () => {
  it("ships the templates byte for byte as the fixtures", () => {
    for (const name of ["qwen1.5-chat", "qwen2.5-instruct"] as const) {
      const shipped = readFileSync(new URL(`../templates/${name}.jinja`, import.meta.url), "utf8");
      expect(shipped).toBe(fixtureText(`${name}.jinja`));
      expect(bundledChatTemplate(name).source).toBe(shipped);
    }
  });

  it("reads chat_template as a JSON string, from text or object", () => {
    const source = fixtureText("qwen2.5-instruct.jinja");
    const config = { chat_template: source, eos_token: "<|im_end|>" };
    for (const input of [config, JSON.stringify(config)]) {
      const t = loadChatTemplate(input);
      expect(t.source).toBe(source);
      expect(t.render({ messages: [{ role: "user", content: "Hi" }], addGenerationPrompt: true })).toBe(
        chatml(
          [
            ["system", QWEN25_DEFAULT],
            ["user", "Hi"],
          ],
          true,
        ),
      );
    }
  });

  it("reads the named-list form and names what exists when a name is missing", () => {
    const config = {
      chat_template: [
        { name: "default", template: fixtureText("qwen1.5-chat.jinja") },
        { name: "tool_use", template: fixtureText("qwen2.5-instruct.jinja") },
      ],
    };
    expect(loadChatTemplate(config).source).toBe(fixtureText("qwen1.5-chat.jinja"));
    expect(loadChatTemplate(config, { name: "tool_use" }).name).toBe("tool_use");
    const err = chatErrorOf(() => loadChatTemplate(config, { name: "rag" }));
    expect(err.code).toBe("TEMPLATE_MISSING");
    expect(err.message).toMatch(/tool_use/);
    expect(chatErrorOf(() => loadChatTemplate({ eos_token: "x" })).code).toBe("TEMPLATE_MISSING");
  });

  it("renders Qwen1.5 and Qwen2.5 exactly like hand-written ChatML", () => {
    const messages = [
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Hello" },
    ];
    expect(fixtureTemplate("qwen1.5-chat").render({ messages, addGenerationPrompt: false })).toBe(
      chatml(
        [
          ["system", QWEN15_DEFAULT],
          ["user", "Hi"],
          ["assistant", "Hello"],
        ],
        false,
      ),
    );
    expect(fixtureTemplate("qwen2.5-instruct").render({ messages, addGenerationPrompt: true })).toBe(
      chatml(
        [
          ["system", QWEN25_DEFAULT],
          ["user", "Hi"],
          ["assistant", "Hello"],
        ],
        true,
      ),
    );
  });
});

describe("template errors", () => {
  const cases: Array<[string, string, number, number]> = [
    ["unexpected character", "{% for m in messages %}\n  {{ m.content ?? 'x' }}\n{% endfor %}", 2, 16],
    ["unknown statement", "hello\n{% fro m in messages %}{% endfor %}", 2, 4],
    ["unterminated string", "{{ 'a' }}\n{{ 'abc }}", 2, 4],
    ["unclosed block", "{% if x %}\nyes", 2, 4],
  ];
  it.each(cases)("reports line and column: %s", (_name, source, line, column) => {
    const err = chatErrorOf(() => loadChatTemplate({ chat_template: source }, { file: "/m/tokenizer_config.json" }));
    expect(err.code).toBe("TEMPLATE_SYNTAX");
    expect(err.facts.line).toBe(line);
    expect(err.facts.column).toBe(column);
    expect(err.message).toContain(`/m/tokenizer_config.json (chat_template):${line}:${column}`);
  });

  it("passes a template's raise_exception message through", () => {
    const source =
      "{% for m in messages %}{% if m.role == 'tool' %}{{ raise_exception('Tools are not supported: ' + m.content) }}{% endif %}{{ m.content }}{% endfor %}";
    const t = loadChatTemplate({ chat_template: source });
    const err = chatErrorOf(() =>
      t.render({ messages: [{ role: "tool", content: "calc" }], addGenerationPrompt: false }),
    );
    expect(err.code).toBe("TEMPLATE_RAISED");
    expect(err.facts.got).toBe("Tools are not supported: calc");
    expect(err.message).toContain("Tools are not supported: calc");
  });

  it("reports other render failures separately", () => {
    const t = loadChatTemplate({ chat_template: "{{ messages | nosuchfilter }}" });
    expect(chatErrorOf(() => t.render({ messages: [], addGenerationPrompt: false })).code).toBe(
      "TEMPLATE_RENDER_FAILED",
    );
  });

  it("rejects unknown roles before rendering, naming the message", () => {
    const err = chatErrorOf(() =>
      renderChat(fixtureTemplate("qwen2.5-instruct"), [
        { role: "user", content: "a" },
        { role: "narrator", content: "b" },
      ]),
    );
    expect(err.code).toBe("UNKNOWN_ROLE");
    expect(err.facts.messageIndex).toBe(1);
    expect(
      renderChat(fixtureTemplate("qwen1.5-chat"), [{ role: "narrator", content: "b" }], { roles: ["narrator"] }).text,
    ).toContain("narrator");
  });

  it("provides range and strftime_now like transformers", () => {
    const t = loadChatTemplate(
      { chat_template: "{% for i in range(1, 4) %}{{ i }}{% endfor %} {{ strftime_now('%d %b %Y') }}" },
      { now: () => new Date(2024, 6, 26) },
    );
    expect(t.render({ messages: [], addGenerationPrompt: false })).toBe("123 26 Jul 2024");
  });
});
