import { beforeAll, describe, expect, it } from "vitest";
import {
  loadTokenizer,
  resolveBatchEncodeOptions,
  type Tokenizer,
  TokenizerError,
  tokenizerFromSources,
} from "../src/index.ts";
import { QWEN_FIXTURE } from "./helpers.ts";
import { tinyTokenizerJson } from "./tiny-tokenizer.ts";

let qwen: Tokenizer;
let tiny: Tokenizer;
beforeAll(() => {
  qwen = loadTokenizer(QWEN_FIXTURE);
  tiny = tokenizerFromSources({
    tokenizerJson: tinyTokenizerJson(),
    tokenizerConfig: { bos_token: "<s>", eos_token: "</s>", pad_token: "<pad>" },
  });
});

const row = (ids: Int32Array, seqLen: number, b: number) => Array.from(ids.subarray(b * seqLen, (b + 1) * seqLen));

describe("encodeBatch", () => {
  it("pads left: every row's last token in the last column", async () => {
    const batch = await qwen.encodeBatch(["Hello world", "Hi", "The quick brown fox"], { padding: "left" });
    expect(batch.seqLen).toBe(4);
    expect(row(batch.ids, 4, 0)).toEqual([151643, 151643, 9707, 1879]);
    expect(Array.from(batch.attentionMask.subarray(0, 4))).toEqual([0, 0, 1, 1]);
    expect(Array.from(batch.lengths)).toEqual([2, 1, 4]);
    expect(Array.from(batch.firstColumn)).toEqual([2, 3, 0]);
    expect(batch.offsets[0]).toEqual([
      [0, 5],
      [5, 11],
    ]);
  });

  it("pads right and rounds up to a multiple", async () => {
    const batch = await qwen.encodeBatch(["Hello world", "Hi"], { padding: "right", padToMultipleOf: 8 });
    expect(batch.seqLen).toBe(8);
    expect(row(batch.ids, 8, 0)).toEqual([9707, 1879, 151643, 151643, 151643, 151643, 151643, 151643]);
    expect(Array.from(batch.attentionMask.subarray(8, 16))).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(batch.firstColumn)).toEqual([0, 0]);
  });

  it("truncates keeping room for the post-processor's tokens, on either side", async () => {
    const right = await tiny.encodeBatch(["a b c d", "a"], { padding: "right", truncation: true, maxLength: 4 });
    expect(row(right.ids, 4, 0)).toEqual([0, 4, 5, 1]);
    expect(row(right.ids, 4, 1)).toEqual([0, 4, 1, 2]);
    const left = await tiny.encodeBatch(["a b c d"], {
      padding: "right",
      truncation: true,
      maxLength: 4,
      truncationSide: "left",
    });
    expect(row(left.ids, 4, 0)).toEqual([0, 6, 9, 1]);
    const plain = await tiny.encode("a b c d");
    expect(Array.from(plain.ids)).toEqual([0, 4, 5, 6, 9, 1]);
    expect(Array.from(plain.specialTokensMask)).toEqual([1, 0, 0, 0, 0, 1]);
  });

  it("pads to max length when asked, and refuses rows that do not fit without truncation", async () => {
    const batch = await qwen.encodeBatch(["Hi"], { padding: "right", padTo: "max-length", maxLength: 5 });
    expect(batch.seqLen).toBe(5);
    await expect(
      qwen.encodeBatch(["a b c d e f g"], { padding: "right", padTo: "max-length", maxLength: 2 }),
    ).rejects.toThrow(/truncation/);
  });

  it("rejects bad options with INVALID_OPTION", async () => {
    const bad = [
      () => qwen.encodeBatch(["x"], { padding: "middle" as "left" }),
      () => qwen.encodeBatch(["x"], { padding: "left", truncation: true }),
      () => qwen.encodeBatch(["x"], { padding: "left", padToMultipleOf: 0 }),
      () => qwen.encode("x", { maxLength: 0 }),
    ];
    for (const call of bad) {
      const err = await call().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TokenizerError);
      expect((err as TokenizerError).code).toBe("INVALID_OPTION");
    }
  });

  it("needs a pad id when the tokenizer has none", async () => {
    const noPad = tokenizerFromSources({ tokenizerJson: tinyTokenizerJson() });
    await expect(noPad.encodeBatch(["a", "a b"], { padding: "left" })).rejects.toThrow(/no pad token/);
    const batch = await noPad.encodeBatch(["a", "a b"], { padding: "left", padTokenId: 1, addSpecialTokens: false });
    expect(Array.from(batch.ids)).toEqual([1, 4, 4, 5]);
  });
});

describe("resolveBatchEncodeOptions", () => {
  it("fills defaults, keeps the input untouched and freezes the result", () => {
    const input = { padding: "left", maxLength: 4, truncation: true };
    const resolved = resolveBatchEncodeOptions(input);
    expect(resolved).toMatchObject({
      padding: "left",
      maxLength: 4,
      truncation: true,
      padTo: "longest",
      offsets: true,
    });
    expect(Object.isFrozen(resolved)).toBe(true);
    expect(input).toEqual({ padding: "left", maxLength: 4, truncation: true });
  });
  it("rejects unknown keys with the nearest valid one, and bad values", () => {
    expect(() => resolveBatchEncodeOptions({ paddingSide: "left" })).toThrow(/did you mean "padding"/);
    expect(() => resolveBatchEncodeOptions({ maxLenght: 3 })).toThrow(/did you mean "maxLength"/);
    expect(() => resolveBatchEncodeOptions({ padding: "up" })).toThrow(/bad value for padding/);
    expect(() => resolveBatchEncodeOptions({ truncation: true })).toThrow(/needs maxLength/);
  });
});
