import { describe, expect, it } from "vitest";
import { padTokenRows, TokenizerError } from "../src/index.ts";

describe("padTokenRows", () => {
  it.each([
    ["left", [9, 9, 1, 2, 9, 3, 4, 5], [0, 0, 1, 1, 0, 1, 1, 1], [2, 1]],
    ["right", [1, 2, 9, 9, 3, 4, 5, 9], [1, 1, 0, 0, 1, 1, 1, 0], [0, 0]],
  ] as const)("lays rows out with %s padding: ids, mask, lengths, first column", (padding, ids, mask, col) => {
    const batch = padTokenRows([[1, 2], Int32Array.from([3, 4, 5])], { padding, padTokenId: 9, seqLen: 4 });
    expect(batch).toMatchObject({ batchSize: 2, seqLen: 4, padding });
    expect([...batch.ids]).toEqual(ids);
    expect([...batch.attentionMask]).toEqual(mask);
    expect([...batch.lengths]).toEqual([2, 3]);
    expect([...batch.firstColumn]).toEqual(col);
    expect(batch.keepMask).toBeUndefined();
  });

  it("places keep masks over the real tokens, zero over padding", () => {
    const batch = padTokenRows([[1, 2], [3]], { padding: "left", padTokenId: 0, keepMasks: [[0, 1], [1]] });
    expect([...batch.keepMask!]).toEqual([0, 1, 0, 1]);
  });

  it("rejects a short seqLen, a bad side and keep masks that do not match their rows", () => {
    const bad = [
      () => padTokenRows([[1, 2, 3]], { padding: "left", padTokenId: 0, seqLen: 2 }),
      () => padTokenRows([[1]], { padding: "up" as "left", padTokenId: 0 }),
      () => padTokenRows([[1]], { padding: "left", padTokenId: 0, keepMasks: [] }),
      () => padTokenRows([[1, 2]], { padding: "left", padTokenId: 0, keepMasks: [[1]] }),
    ];
    for (const call of bad) expect(call).toThrow(TokenizerError);
    expect(bad[3]).toThrow(/keepMasks\[0\]/);
  });
});
