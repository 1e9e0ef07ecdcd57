import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Tokenizer } from "@difflens/tokenizer";
import { beforeAll, describe, expect, it } from "vitest";
import {
  assertPartition,
  detectTurnMarkers,
  findRegions,
  GEMMA_MARKERS,
  LLAMA3_MARKERS,
  lastSystemContentToken,
  renderChat,
  resolveTokenizeChatOptions,
  type SystemCondition,
  SystemConditions,
  tokenizeChat,
  turnEnds,
} from "../src/index.ts";
import { fixtureTemplate } from "./helpers.ts";
import {
  CASES,
  expectedIds,
  type LayoutModel,
  layoutTemplate,
  layoutTokenizer,
  textsToTokenize,
} from "./template-cases.ts";

const MODELS = ["llama3", "gemma3"] as const;
// Rebuilding the pruned tokenizer fixtures starts here (fixtures/README.md).
const writeTexts = process.env["DIFFLENS_WRITE_CHAT_TEXTS"];
it.runIf(writeTexts !== undefined)("writes the texts the tokenizer fixtures must cover", () => {
  mkdirSync(writeTexts!, { recursive: true });
  for (const m of MODELS) writeFileSync(join(writeTexts!, `${m}.json`), JSON.stringify(textsToTokenize(m)));
});

const tok = {} as Record<LayoutModel, Tokenizer>;
const ids = {} as Record<LayoutModel, Record<string, number[]>>;
beforeAll(() => {
  if (writeTexts !== undefined) return; // the fixtures are being rebuilt
  for (const m of MODELS) {
    tok[m] = layoutTokenizer(m);
    ids[m] = expectedIds(m);
  }
});

const SPECIAL = {
  llama3: { bos: 128000, start: 128006, endHeader: 128007, end: 128009, eot: 128001 },
  gemma3: { bos: 2, start: 105, end: 106, eos: 1, nl: 107, nlnl: 108 },
};

function systemOf(condition: SystemCondition): string | null {
  return condition.kind === "custom" ? condition.text : condition.kind === "empty" ? "" : null;
}

/** The chats written by hand from the model cards' formats, independent of the templates. */
function handWritten(model: LayoutModel, system: string | null, turns: Array<[string, string]>, gen: boolean): string {
  if (model === "llama3") {
    const all: Array<[string, string]> = system === null ? turns : [["system", system], ...turns];
    const body = all.map(([r, c]) => `<|start_header_id|>${r}<|end_header_id|>\n\n${c}<|eot_id|>`).join("");
    return `<|begin_of_text|>${body}${gen ? "<|start_header_id|>assistant<|end_header_id|>\n\n" : ""}`;
  }
  const body = turns
    .map(([r, c], i) => {
      const prefix = i === 0 && system !== null ? `${system}\n\n` : "";
      return `<start_of_turn>${r === "assistant" ? "model" : r}\n${prefix}${c}<end_of_turn>\n`;
    })
    .join("");
  return `<bos>${body}${gen ? "<start_of_turn>model\n" : ""}`;
}

describe("token regions on rendered Llama 3 and Gemma 3 conversations (real tokenizers, pruned)", () => {
  it.each(CASES)("$template, $condition.kind, generation prompt $generation, $label", async (c) => {
    const t = tok[c.model];
    const chat = await tokenizeChat(t, layoutTemplate(c.template), c.messages, {
      condition: c.condition,
      addGenerationPrompt: c.generation,
    });
    const decode = (positions: Int32Array) => t.decode(Array.from(positions, (p) => chat.ids[p] as number));
    const system = systemOf(c.condition);
    const turns = c.messages.map((m) => [m.role, m.content] as [string, string]);
    const gemma = c.model === "gemma3";
    // Llama 3 Instruct's first template revision writes the assistant header even when it is not asked for.
    const unasked = c.template === "llama3-instruct-first-revision" && !c.generation;

    expect(chat.text).toBe(handWritten(c.model, system, turns, c.generation || unasked));
    const want = ids[c.model][chat.text];
    expect(want, "text missing from expected-ids.json: rebuild the fixture (fixtures/README.md)").toBeDefined();
    expect(Array.from(chat.ids)).toEqual(want);
    for (const seg of [chat.segmentationA, chat.segmentationB]) assertPartition(seg);

    // Turns: Gemma folds the system prompt into the first user turn; "model" reads as the assistant role.
    const roles = turns.map(([r]) => r);
    expect(chat.rendered.turns.map((x) => x.role)).toEqual(system === null || gemma ? roles : ["system", ...roles]);
    expect(chat.rendered.turns.some((x) => x.inserted)).toBe(false);

    // Every region decodes to exactly the text it stands for.
    const A = chat.segmentationA;
    for (const turn of chat.rendered.turns) {
      const of = (kind: string) => A.regions.filter((r) => r.turnIndex === turn.index && r.kind === kind);
      const folded = of("content").filter((r) => r.folded);
      const own = of("content").filter((r) => !r.folded);
      const hasFolded = gemma && system !== null && turn.index === 0;
      expect(folded.length).toBe(hasFolded ? 1 : 0);
      // The "\n\n" after a folded prompt is template text inside the turn (structural), except after an empty
      // prompt: there the header's "\n" and it are one token ("\n\n\n"), filed where it starts (the header).
      const separator = hasFolded && system !== "" ? "\n\n" : "";
      expect(await decode(of("structural")[0]!.positions)).toBe(
        gemma ? `<start_of_turn>${separator}<end_of_turn>\n` : "<|start_header_id|><|eot_id|>",
      );
      expect(await decode(of("header")[0]!.positions)).toBe(
        gemma ? `${turn.headerRole}\n${hasFolded && system === "" ? "\n\n" : ""}` : `${turn.role}<|end_header_id|>\n\n`,
      );
      const messageIndex = turn.messageIndices.at(-1)!;
      expect(own.map((r) => r.messageIndex)).toEqual([messageIndex]);
      expect(await decode(own[0]!.positions)).toBe(chat.rendered.messages[messageIndex]!.content);
      if (hasFolded) {
        expect(folded[0]).toMatchObject({ name: "user[0].folded-system", role: "system", kind: "content" });
        expect(await decode(folded[0]!.positions)).toBe(system);
      }
    }
    const gen = findRegions(chat, { kind: "generation-prompt" });
    const genText = gemma ? "<start_of_turn>model\n" : "<|start_header_id|>assistant<|end_header_id|>\n\n";
    expect(gen.length).toBe(c.generation || unasked ? 1 : 0);
    if (gen.length === 1) expect(await decode(gen[0]!.positions)).toBe(genText);
    const outside = findRegions(chat, { kind: "outside" });
    expect(await decode(outside[0]!.positions)).toBe(gemma ? "<bos>" : "<|begin_of_text|>");

    // Segmentation B: the layout's specials, wherever they are (content included).
    const specialIds = new Set(
      ((gemma ? GEMMA_MARKERS : LLAMA3_MARKERS).specials ?? []).map((s) => ids[c.model][s]![0]!),
    );
    const specials = chat.segmentationB.regions.find((r) => r.kind === "specials")!;
    expect(Array.from(specials.positions)).toEqual(
      Array.from(chat.ids.keys()).filter((p) => specialIds.has(chat.ids[p]!)),
    );

    // Readout positions: the last system token is the folded prompt's last token in Gemma.
    const last = lastSystemContentToken(chat);
    if (system === null || system === "") expect(last).toBeNull();
    else expect(chat.text.slice(0, chat.offsets[last!]![1]).endsWith(system)).toBe(true);
    const ends = turnEnds(chat);
    expect(ends.map((e) => chat.ids[e.endMarker!])).toEqual(ends.map(() => SPECIAL[c.model].end));
    for (const e of ends) expect(chat.ids[e.lastToken]).toBe(gemma ? SPECIAL.gemma3.nl : SPECIAL.llama3.end);

    // Notes: where the template cannot express what a condition means.
    const notes = chat.rendered.notes.join("\n");
    expect(/no system role/.test(notes)).toBe(gemma && system !== null);
    expect(/no default system prompt/.test(notes)).toBe(system === null);
    expect(/even without add_generation_prompt/.test(notes)).toBe(unasked);
  });

  it("files literal markers in content under content in A and under specials in B", async () => {
    for (const m of MODELS) {
      const marker = m === "gemma3" ? "<end_of_turn>" : "<|eot_id|>";
      const template = layoutTemplate(m === "gemma3" ? "gemma3-it" : "llama3-instruct");
      const chat = await tokenizeChat(tok[m], template, [{ role: "user", content: `a ${marker} b` }]);
      const literal = chat.ids.indexOf(SPECIAL[m].end);
      expect(chat.segmentationA.regions[chat.segmentationA.regionOf[literal]!]!.name).toBe("user[0].content");
      expect(chat.segmentationB.regions[chat.segmentationB.regionOf[literal]!]!.kind).toBe("specials");
    }
  });

  it("refuses what the templates rewrite: content they trim, and Gemma's non-alternating roles", () => {
    for (const m of ["llama3-instruct", "gemma3-it"] as const) {
      expect(() => renderChat(layoutTemplate(m), [{ role: "user", content: " padded\n" }])).toThrow(
        /TEMPLATE_TRANSFORMS_CONTENT/,
      );
    }
    expect(() =>
      renderChat(layoutTemplate("gemma3-it"), [{ role: "assistant", content: "first" }], {
        condition: SystemConditions.custom("x"),
      }),
    ).toThrow(/TEMPLATE_RAISED.*alternate/);
  });

  it("writes no notes for ChatML templates, whose default system turn no-system-turn cuts", () => {
    for (const condition of [SystemConditions.modelDefault(), SystemConditions.noSystemTurn()]) {
      const messages = [{ role: "user", content: "Hi" }];
      expect(renderChat(fixtureTemplate("qwen2.5-instruct"), messages, { condition }).notes).toEqual([]);
    }
  });

  it("reads a layout from a config file's options, refusing unknown layout keys", () => {
    const options = resolveTokenizeChatOptions({ markers: JSON.parse(JSON.stringify(GEMMA_MARKERS)) });
    expect(options.markers).toEqual(GEMMA_MARKERS);
    expect(() => resolveTokenizeChatOptions({ markers: { turnStart: "<a>", turnEnd: "<b>", header: "x" } })).toThrow(
      /markers\.header/,
    );
  });

  it("detects each template's layout from its source, and bundles the templates byte for byte", () => {
    expect(detectTurnMarkers(layoutTemplate("llama3-instruct-first-revision").source)).toBe(LLAMA3_MARKERS);
    expect(detectTurnMarkers(layoutTemplate("gemma3-it").source)).toBe(GEMMA_MARKERS);
    expect(detectTurnMarkers(fixtureTemplate("qwen2.5-instruct").source).turnStart).toBe("<|im_start|>");
    for (const [m, name] of [
      ["llama3", "llama3-instruct"],
      ["gemma3", "gemma3-it"],
    ] as const) {
      const file = new URL(`./fixtures/${m}/tokenizer_config.json`, import.meta.url);
      const config = JSON.parse(readFileSync(file, "utf8")) as Record<string, string>;
      expect(layoutTemplate(name).source).toBe(config["chat_template"]);
      expect(layoutTemplate(name).name).toBe(name);
    }
  });
});
