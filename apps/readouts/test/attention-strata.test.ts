/** Stage 2's positions and regions: strata C1–C4 as records.ts defines them, the frequency table, key groups. */
import { loadChatTemplateFromFolder } from "@difflens/chat";
import { loadTokenizer } from "@difflens/tokenizer";
import { describe, expect, it } from "vitest";
import { personaPrompt } from "../src/attention-marker/persona-prompt.ts";
import { type Generation, REGION_GROUPS } from "../src/attention-marker/records.ts";
import { keyGroups } from "../src/attention-marker/region-groups.ts";
import { chooseStrata } from "../src/attention-marker/strata.ts";
import { tokenFrequencies } from "../src/attention-marker/token-frequency.ts";
import { MODEL_DIR } from "./attention-fixture.ts";

const MARKER = 99;
const PROMPT = [1, 2, 3, 4, 5];

function generation(generatedIds: readonly number[], trialSeed = 7, trial = 0): Generation {
  const at = generatedIds.indexOf(MARKER);
  return {
    persona: "p",
    runSeed: 42,
    trial,
    questionIndex: 0,
    question: "q?",
    trialSeed,
    promptIds: PROMPT,
    generatedIds,
    finishReason: "stop",
    markerPosition: at < 0 ? null : PROMPT.length + at,
    settings: { temperature: 1, topP: 0.95, topK: 0, maxNewTokens: 64 },
  };
}

describe("strata", () => {
  // generated: positions 5 … 14 hold 10, 11, …, 17 then the marker at t* = 13, then 50
  const positive = generation([10, 11, 12, 13, 14, 15, 16, 17, MARKER, 50]);

  it("reads the marker at t* + offset and draws C1 and C2 from before t*, reproducibly from the trial seed", () => {
    const s = chooseStrata(positive, new Map(), 0, MARKER);
    expect(s.marker).toBe(13);
    expect(s.c4).toBeNull();
    expect(s.c1).toBeGreaterThanOrEqual(5);
    expect(s.c1).toBeLessThan(13);
    // last quarter of the 8 generated tokens before t*: positions 11 and 12
    expect([11, 12]).toContain(s.c2);
    expect(chooseStrata(positive, new Map(), 0, MARKER)).toEqual(s);
    const drawn = new Set(
      Array.from(
        { length: 40 },
        (_, seed) => chooseStrata(generation(positive.generatedIds, seed), new Map(), 0, MARKER).c1,
      ),
    );
    expect(drawn.size).toBeGreaterThan(5); // uniform over the 8 candidates, not a fixed pick
  });

  it("keeps the controls off the marker's readout position when the offset moves it before t*", () => {
    for (let seed = 0; seed < 30; seed++) {
      const s = chooseStrata(generation(positive.generatedIds, seed), new Map(), -1, MARKER);
      expect(s.marker).toBe(12);
      expect(s.c1).not.toBe(12);
      expect(s.c2).toBe(11); // the last quarter less the readout position
      expect(s.c3).not.toBe(12);
    }
  });

  it("C3 is the rarest input token by the run's table; ties go to the larger id, then the later position", () => {
    const g = generation([20, 21, 20, 22, 21, MARKER]);
    expect(
      chooseStrata(
        g,
        new Map([
          [20, 1],
          [21, 5],
          [22, 3],
        ]),
        0,
        MARKER,
      ).c3,
    ).toBe(7); // id 20, its later position
    expect(
      chooseStrata(
        g,
        new Map([
          [20, 2],
          [21, 2],
          [22, 9],
        ]),
        0,
        MARKER,
      ).c3,
    ).toBe(9); // tie 20/21 → 21, later
    expect(chooseStrata(g, new Map(), 0, MARKER).c3).toBe(8); // all unseen: the largest id, 22
  });

  it("C4 is a negative's end-of-answer position; other strata are null there", () => {
    expect(chooseStrata(generation([10, 11, 151645]), new Map(), 0, MARKER)).toEqual({
      marker: null,
      c1: null,
      c2: null,
      c3: null,
      c4: 7,
    });
  });

  it("is null where a stratum has no candidate, and refuses a t* that does not hold the marker", () => {
    const first = chooseStrata(generation([MARKER, 10]), new Map(), 0, MARKER);
    expect(first).toEqual({ marker: 5, c1: null, c2: null, c3: null, c4: null });
    const bad = { ...positive, markerPosition: 6 };
    expect(() => chooseStrata(bad, new Map(), 0, MARKER)).toThrow(/markerPosition 6 does not hold the marker id 99/);
  });

  it("counts generated tokens only, over positives and negatives", () => {
    const table = tokenFrequencies([generation([10, 10, MARKER]), generation([10, 11])]);
    expect(Object.fromEntries(table)).toEqual({ 10: 3, 11: 1, [MARKER]: 1 });
  });
});

describe("key groups", () => {
  const tokenizer = loadTokenizer(MODEL_DIR);
  const template = loadChatTemplateFromFolder(MODEL_DIR);
  const G = Object.fromEntries(REGION_GROUPS.map((g, i) => [g, i]));

  it("labels system and user content, the template, the answer, and specials under B only", async () => {
    const chat = await personaPrompt(tokenizer, template, "Be brief.", "Why?", [
      "<|im_start|>",
      "<|im_end|>",
      "\n",
      "\n\n",
    ]);
    const nl = tokenizer.tokenToId("Ċ")!;
    const g = { ...generation([40, nl, 41]), promptIds: Array.from(chat.ids) };
    const groups = keyGroups(chat, g);
    const n = chat.ids.length;
    const within = (k: number, content: string) => {
      const start = chat.text.indexOf(content);
      return chat.offsets[k]![0] >= start && chat.offsets[k]![0] < start + content.length;
    };
    expect(groups.A.length).toBe(n + 3);
    const expected = Array.from({ length: n }, (_, k) =>
      within(k, "Be brief.") ? G.system : within(k, "Why?") ? G.user : G.template,
    );
    expect(Array.from(groups.A.slice(0, n))).toEqual(expected);
    expect(Array.from(groups.A.slice(n))).toEqual([G.assistantPrefix, G.assistantPrefix, G.assistantPrefix]);
    expect(Array.from(groups.B.slice(n))).toEqual([G.assistantPrefix, G.specials, G.assistantPrefix]);
    expect(groups.A.includes(G.specials!)).toBe(false);
    expect(groups.B[0]).toBe(G.specials); // <|im_start|>
  });

  it("refuses a prompt that no longer renders to the saved promptIds", async () => {
    const chat = await personaPrompt(tokenizer, template, "Be brief.", "Why?");
    const g = { ...generation([40]), promptIds: [...Array.from(chat.ids).slice(0, -1), 7] };
    expect(() => keyGroups(chat, g)).toThrow(
      /first difference at token \d+\): the chat template or the tokenizer changed/,
    );
  });
});
