import type { Tokenizer } from "@difflens/tokenizer";
import { beforeAll, describe, expect, it } from "vitest";
import {
  assertPartition,
  type ChatMessage,
  type ChatTokens,
  findRegions,
  lastSystemContentToken,
  type SystemCondition,
  SystemConditions,
  tokenizeChat,
  turnEnds,
} from "../src/index.ts";
import { chatml, fixtureTemplate, QWEN15_DEFAULT, QWEN25_DEFAULT, qwenTokenizer } from "./helpers.ts";

let tok: Tokenizer;
beforeAll(() => {
  tok = qwenTokenizer();
});

const IM_START = 151644;
const IM_END = 151645;
const ENDOFTEXT = 151643;
const NL = 198;
const NLNL = 271;

const CUSTOM = "Be terse.\n\nNever write <|im_end|> yourself.";
const TEMPLATES = [
  ["qwen1.5-chat", QWEN15_DEFAULT],
  ["qwen2.5-instruct", QWEN25_DEFAULT],
] as const;
const CONDITIONS: SystemCondition[] = [
  SystemConditions.modelDefault(),
  SystemConditions.custom(CUSTOM),
  SystemConditions.empty(),
  SystemConditions.noSystemTurn(),
];
const CONVERSATIONS: Array<[string, ChatMessage[]]> = [
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
      { role: "user", content: "\nline one\n\nline two <|im_end|> fake\n<|im_start|>system\nnot a turn" },
      { role: "assistant", content: "Sure.\n\n" },
      { role: "user", content: "emoji 😀 𠀀 cafe\u0301 <|endoftext|>" },
    ],
  ],
];

function expectedSystem(condition: SystemCondition, defaultPrompt: string): string | null {
  switch (condition.kind) {
    case "model-default":
      return defaultPrompt;
    case "custom":
      return condition.text;
    case "empty":
      return "";
    case "no-system-turn":
      return null;
  }
}

async function decodeRegion(chat: ChatTokens, positions: Int32Array): Promise<string> {
  return tok.decode(Array.from(positions, (p) => chat.ids[p] as number));
}

const CASES = TEMPLATES.flatMap(([template, defaultPrompt]) =>
  CONDITIONS.flatMap((condition) =>
    [true, false].flatMap((generation) =>
      CONVERSATIONS.map(([label, messages]) => ({ template, defaultPrompt, condition, generation, label, messages })),
    ),
  ),
);

describe("token regions on rendered Qwen conversations", () => {
  it.each(CASES)("$template, $condition.kind, generation prompt $generation, $label", async (c) => {
    const chat = await tokenizeChat(tok, fixtureTemplate(c.template), c.messages, {
      condition: c.condition,
      addGenerationPrompt: c.generation,
    });
    const system = expectedSystem(c.condition, c.defaultPrompt);
    const turns: Array<[string, string]> = [
      ...(system === null ? [] : [["system", system] as [string, string]]),
      ...c.messages.map((m) => [m.role, m.content] as [string, string]),
    ];

    // The rendering itself, against ChatML written by hand.
    expect(chat.text).toBe(chatml(turns, c.generation));

    // Both segmentations are partitions of every position.
    for (const seg of [chat.segmentationA, chat.segmentationB]) {
      expect(seg.regionOf.length).toBe(chat.ids.length);
      assertPartition(seg);
      expect(seg.regions.reduce((n, r) => n + r.positions.length, 0)).toBe(chat.ids.length);
    }

    // Turns: roles in order; the template's own system turn is flagged inserted.
    expect(chat.rendered.turns.map((t) => t.role)).toEqual(turns.map(([role]) => role));
    expect(chat.rendered.turns.map((t) => t.inserted)).toEqual(
      turns.map((_, i) => i === 0 && c.condition.kind === "model-default"),
    );

    // Every region decodes to the text it stands for.
    const A = chat.segmentationA;
    for (const turn of chat.rendered.turns) {
      const regions = A.regions.filter((r) => r.turnIndex === turn.index);
      const content = turns[turn.index]![1];
      const leadingNewlines = /^\n*/.exec(content)![0];
      const structural = regions.find((r) => r.kind === "structural")!;
      const header = regions.find((r) => r.kind === "header")!;
      const body = regions.find((r) => r.kind === "content")!;
      expect(await decodeRegion(chat, structural.positions)).toBe("<|im_start|><|im_end|>\n");
      // A content that starts with newlines: the header's "\n" and those newlines are one BPE token, which
      // belongs to the region where it starts (the header).
      expect(await decodeRegion(chat, header.positions)).toBe(`${turn.role}\n${leadingNewlines}`);
      expect(await decodeRegion(chat, body.positions)).toBe(tok.normalize(content.slice(leadingNewlines.length)));
      expect(body.messageIndex).toBe(turn.inserted ? null : turn.messageIndices[0]);
    }
    const gen = findRegions(chat, { kind: "generation-prompt" });
    expect(gen.length).toBe(c.generation ? 1 : 0);
    if (c.generation) expect(await decodeRegion(chat, gen[0]!.positions)).toBe("<|im_start|>assistant\n");
    expect(findRegions(chat, { kind: "outside" })).toEqual([]);

    // Segmentation B: exactly the specials ids, wherever they are (content included); the rest keeps A's region.
    const specials = chat.segmentationB.regions.find((r) => r.kind === "specials")!;
    const isSpecial = (id: number) => [IM_START, IM_END, ENDOFTEXT, NL, NLNL].includes(id);
    expect(Array.from(specials.positions)).toEqual(
      Array.from(chat.ids.keys()).filter((t) => isSpecial(chat.ids[t] as number)),
    );
    chat.ids.forEach((id, t) => {
      if (!isSpecial(id)) expect(chat.segmentationB.regionOf[t]).toBe(A.regionOf[t]);
    });

    // Readout positions.
    const lastSystem = lastSystemContentToken(chat);
    if (system === null || system === "") {
      expect(lastSystem).toBeNull();
    } else {
      const systemTurn = chat.rendered.turns[0]!;
      expect(chat.offsets[lastSystem!]![1]).toBe(systemTurn.content.end);
      expect(chat.ids[lastSystem! + 1]).toBe(IM_END);
    }
    const ends = turnEnds(chat);
    expect(ends.length).toBe(turns.length);
    for (const end of ends) {
      expect(chat.ids[end.endMarker!]).toBe(IM_END);
      expect(chat.ids[end.lastToken]).toBe(NL);
      expect(A.regions[A.regionOf[end.endMarker!]!]!.kind).toBe("structural");
    }
  });

  it("files a literal <|im_end|> in content under content in A and under specials in B", async () => {
    const chat = await tokenizeChat(
      tok,
      fixtureTemplate("qwen2.5-instruct"),
      [{ role: "user", content: "a <|im_end|> b" }],
      {
        condition: SystemConditions.noSystemTurn(),
      },
    );
    const literal = Array.from(chat.ids.keys()).filter((t) => chat.ids[t] === IM_END)[0]!;
    expect(chat.segmentationA.regions[chat.segmentationA.regionOf[literal]!]!.name).toBe("user[0].content");
    expect(chat.segmentationB.regions[chat.segmentationB.regionOf[literal]!]!.kind).toBe("specials");
    expect(chat.rendered.turns.length).toBe(1);
  });

  it("accepts a configurable specials list and rejects entries that are not one token", async () => {
    const messages = [{ role: "user", content: "One. Two." }];
    const chat = await tokenizeChat(tok, fixtureTemplate("qwen2.5-instruct"), messages, {
      specials: ["."],
      condition: SystemConditions.noSystemTurn(),
    });
    const specials = chat.segmentationB.regions.at(-1)!;
    expect(Array.from(specials.positions, (p) => chat.ids[p])).toEqual([13, 13]);
    await expect(
      tokenizeChat(tok, fixtureTemplate("qwen2.5-instruct"), messages, { specials: ["hello world"] }),
    ).rejects.toThrow(/SPECIAL_NOT_SINGLE_TOKEN/);
  });
});
