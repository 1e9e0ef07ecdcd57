import { beforeAll, describe, expect, it } from "vitest";
import { loadTokenizer, type Tokenizer } from "../src/index.ts";
import { QWEN_FIXTURE } from "./helpers.ts";

let tok: Tokenizer;
beforeAll(() => {
  tok = loadTokenizer(QWEN_FIXTURE);
});

const TEXTS: Array<[string, string]> = [
  ["emoji", "I ❤️ pizza 😀😀 and 🍕!"],
  ["astral CJK (Extension B)", "𠀀𠀁𠀂 is rare, 𪚥 too; 世界 is common"],
  // Marks of one combining class only: NFC composes them but does not reorder them (see the reordering test).
  ["combining marks", "cafe\u0301 nai\u0308ve A\u030A o\u0308\u0301 stacked: z\u0351\u0352"],
  ["ZWJ sequences", "👨\u200d👩\u200d👧\u200d👦 family, 🏳️\u200d🌈 flag, 👩🏽\u200d💻 coder"],
  ["mixed", "Ünïcödé\n\n<|im_start|>x😀\u0301𠀀\n"],
];

/** Positions where a token starts a new span: the places a decoded slice may begin or end. */
function boundaries(offsets: Array<[number, number]>): number[] {
  const out: number[] = [];
  offsets.forEach(([start], i) => {
    const previous = offsets[i - 1];
    if (
      i === 0 ||
      (previous !== undefined && previous[1] <= start && !(previous[0] === start && previous[1] === offsets[i]![1]))
    )
      out.push(i);
  });
  return out;
}

describe("UTF-16 offsets", () => {
  it.each(TEXTS)("%s: within bounds and non-decreasing", async (_name, text) => {
    const { offsets } = await tok.encode(text, { addSpecialTokens: false });
    let previousStart = 0;
    for (const [start, end] of offsets) {
      expect(start).toBeGreaterThanOrEqual(0);
      expect(end).toBeLessThanOrEqual(text.length);
      expect(start).toBeLessThanOrEqual(end);
      expect(start).toBeGreaterThanOrEqual(previousStart);
      previousStart = start;
    }
  });

  it.each(TEXTS)("%s: tokens that split one character share its whole span", async (_name, text) => {
    const { ids, offsets } = await tok.encode(text, { addSpecialTokens: false });
    for (let i = 0; i < ids.length; i++) {
      const [start, end] = offsets[i]!;
      const piece = text.slice(start, end);
      // A span never cuts a surrogate pair.
      expect(/^[\udc00-\udfff]/.test(piece)).toBe(false);
      expect(/[\ud800-\udbff]$/.test(piece)).toBe(false);
      // A token whose bytes are not whole characters decodes to U+FFFD alone; another token must cover the rest
      // of that character, so a neighbour's span overlaps this one.
      const decoded = await tok.decode([ids[i] as number]);
      if (decoded.includes("\ufffd") && !piece.includes("\ufffd")) {
        const overlaps = [offsets[i - 1], offsets[i + 1]].filter(
          (o) => o !== undefined && Math.max(o[0], start) < Math.min(o[1], end),
        );
        expect(overlaps.length).toBeGreaterThan(0);
      }
    }
  });

  it("the 4-byte emoji splits into byte tokens that all carry the emoji's 2-unit span", async () => {
    const text = "𠀀";
    const { ids, offsets } = await tok.encode(text, { addSpecialTokens: false });
    expect(ids.length).toBe(3);
    expect(offsets).toEqual([
      [0, 2],
      [0, 2],
      [0, 2],
    ]);
  });

  it("a combining mark folded by NFC lies inside no token's span", async () => {
    const text = "e\u0301 café"; // "e" + COMBINING ACUTE: NFC makes one character "é"
    const { offsets } = await tok.encode(text, { addSpecialTokens: false });
    expect(offsets).toEqual([
      [0, 1],
      [2, 7],
    ]);
    const covered = (i: number) => offsets.some(([s, e]) => s <= i && i < e);
    expect(covered(1)).toBe(false); // U+0301 at index 1 belongs to no token
  });

  it.each(TEXTS)(
    "%s: decoding tokens between two boundaries gives the normalized text between them",
    async (_name, text) => {
      const { ids, offsets } = await tok.encode(text, { addSpecialTokens: false });
      const cuts = boundaries(offsets);
      const charAt = (tokenIndex: number) =>
        tokenIndex >= ids.length ? text.length : tokenIndex === 0 ? 0 : offsets[tokenIndex]![0];
      const edges = [...cuts, ids.length];
      let checked = 0;
      for (let a = 0; a < edges.length; a++) {
        for (let b = a + 1; b < edges.length; b += Math.max(1, Math.floor(edges.length / 7))) {
          const from = edges[a] as number;
          const to = edges[b] as number;
          const decoded = await tok.decode(ids.subarray(from, to));
          expect(decoded).toBe(tok.normalize(text.slice(charAt(from), charAt(to))));
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(3);
    },
  );

  it("NFC reorders combining marks by class, so a sub-span may not decode to its own slice (documented caveat)", async () => {
    const text = "Zalgo: z\u0351\u0352\u0353"; // U+0353 (class 220) moves before U+0351/U+0352 (class 230)
    expect(tok.normalize(text)).toBe("Zalgo: z\u0353\u0351\u0352");
    const { ids } = await tok.encode(text, { addSpecialTokens: false });
    expect(await tok.decode(ids)).toBe(tok.normalize(text)); // the whole text still round-trips to its NFC form
  });
});
