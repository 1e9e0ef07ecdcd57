import { describe, expect, it } from "vitest";
import { applyMaskRules, batchWindows, chatWindows, outlierNormMask, packTextWindows } from "../src/index.ts";
import { collect, wordTokenizer } from "./helpers.ts";

async function* from<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}

describe("packTextWindows", () => {
  it("joins documents with the separator and cuts exact windows, dropping the tail", async () => {
    const tokenizer = wordTokenizer();
    const windows = await collect(
      packTextWindows(from(["a b c", "d e", "f g h i"]), tokenizer, { contextSize: 4, separatorId: 0 }),
    );
    const [a, b, c, d, e, f, g, h, i] = ["a", "b", "c", "d", "e", "f", "g", "h", "i"].map(
      (w) => tokenizer.vocab.get(w)!,
    );
    // stream: a b c SEP d e SEP f g h i SEP → 12 tokens = 3 windows
    expect(windows.map((w) => [...w.ids])).toEqual([
      [a, b, c, 0],
      [d, e, 0, f],
      [g, h, i, 0],
    ]);
    expect(windows.every((w) => w.mask.every((m) => m === 1))).toBe(true);
  });

  it("prepends a BOS per window and masks it, and applies exclusion rules", async () => {
    const tokenizer = wordTokenizer();
    const windows = await collect(
      packTextWindows(from(["a b c d e"]), tokenizer, {
        contextSize: 4,
        separatorId: 0,
        bosId: 1,
        maskRules: { excludeIds: [0], excludeFirstPosition: false },
      }),
    );
    expect(windows).toHaveLength(2);
    expect(windows[0]!.ids[0]).toBe(1);
    expect([...windows[0]!.mask]).toEqual([0, 1, 1, 1]);
    expect([...windows[1]!.ids.slice(1)]).toContain(0);
    expect(windows[1]!.mask[windows[1]!.ids.indexOf(0)]).toBe(0);
  });

  it("rejects a context too small to hold a token", async () => {
    await expect(
      collect(packTextWindows(from(["a"]), wordTokenizer(), { contextSize: 1, separatorId: 0, bosId: 1 })),
    ).rejects.toMatchObject({ code: "BAD_CONFIG" });
  });
});

describe("chatWindows", () => {
  const chat = (n: number, region = "user:content") => ({
    ids: Array.from({ length: n }, (_, i) => 100 + i),
    regions: Array.from({ length: n }, () => region),
  });

  it("pads one chat per window and never trains on padding", async () => {
    const [w] = await collect(chatWindows(from([chat(3)]), { contextSize: 5, padId: 9, overflow: "error" }));
    expect([...w!.ids]).toEqual([100, 101, 102, 9, 9]);
    expect([...w!.mask]).toEqual([1, 1, 1, 0, 0]);
    expect(w!.regions).toEqual(["user:content", "user:content", "user:content", "padding", "padding"]);
    expect(w!.length).toBe(3);
  });

  it("keeps padding masked even when the pad id is also a real token, and masks excluded ids in the chat", async () => {
    const [w] = await collect(
      chatWindows(from([{ ids: [9, 5, 9], regions: ["a", "a", "a"] }]), {
        contextSize: 4,
        padId: 9,
        overflow: "error",
        maskRules: { excludeIds: [5], excludeFirstPosition: false },
      }),
    );
    expect([...w!.mask]).toEqual([1, 0, 1, 0]);
  });

  it("selects training regions by prefix", async () => {
    const regions = ["system:header", "system:content", "assistant:header", "assistant:content"];
    const [w] = await collect(
      chatWindows(from([{ ids: [1, 2, 3, 4], regions }]), {
        contextSize: 4,
        padId: 0,
        overflow: "error",
        trainRegions: ["assistant:content"],
      }),
    );
    expect([...w!.mask]).toEqual([0, 0, 0, 1]);
  });

  it("truncates, skips or refuses a chat longer than the window", async () => {
    expect(
      (await collect(chatWindows(from([chat(6)]), { contextSize: 4, padId: 0, overflow: "truncate" })))[0]!.length,
    ).toBe(4);
    expect(
      await collect(chatWindows(from([chat(6), chat(2)]), { contextSize: 4, padId: 0, overflow: "skip" })),
    ).toHaveLength(1);
    await expect(
      collect(chatWindows(from([chat(6)]), { contextSize: 4, padId: 0, overflow: "error" })),
    ).rejects.toMatchObject({ code: "CONTEXT_TOO_LONG" });
  });
});

describe("masks and batches", () => {
  it("excludes chosen ids and the first position", () => {
    const mask = applyMaskRules(Int32Array.from([7, 1, 7, 2]), new Uint8Array(4).fill(1), {
      excludeIds: [7],
      excludeFirstPosition: true,
    });
    expect([...mask]).toEqual([0, 1, 0, 1]);
  });

  it("flags activation rows whose norm exceeds a multiple of the median", () => {
    // norms: 1, 1, 1, 50 (width 2)
    const rows = Float32Array.from([1, 0, 0, 1, 0.6, 0.8, 30, 40]);
    expect([...outlierNormMask(rows, 2, 10)]).toEqual([1, 1, 1, 0]);
    expect(() => outlierNormMask(rows, 3, 10)).toThrow(/not rows of width 3/);
  });

  it("stacks windows into row-major batches", async () => {
    const windows = [1, 2, 3].map((v) => ({ ids: Int32Array.from([v, v]), mask: Uint8Array.from([1, 0]) }));
    const batches = await collect(batchWindows(from(windows), 2));
    expect(batches.map((b) => [b.batchSize, [...b.ids]])).toEqual([
      [2, [1, 1, 2, 2]],
      [1, [3, 3]],
    ]);
    expect([...batches[0]!.keepMask!]).toEqual([1, 0, 1, 0]);
    expect(await collect(batchWindows(from(windows), 2, { dropLast: true }))).toHaveLength(1);
  });

  it("yields right-padded TokenBatches: window lengths give attention, trimPadding cuts unread columns", async () => {
    const window = (length: number) => ({ ids: Int32Array.of(1, 2, 3, 9), mask: Uint8Array.of(0, 1, 1, 0), length });
    const windows = [window(2), window(3)];
    const [full] = await collect(batchWindows(from(windows), 2));
    expect(full).toMatchObject({ batchSize: 2, seqLen: 4, padding: "right" });
    expect([...full!.attentionMask]).toEqual([1, 1, 0, 0, 1, 1, 1, 0]);
    expect([...full!.keepMask!]).toEqual([0, 1, 0, 0, 0, 1, 1, 0]);
    expect([...full!.lengths]).toEqual([2, 3]);
    const [trimmed] = await collect(batchWindows(from(windows), 2, { trimPadding: true }));
    expect(trimmed!.seqLen).toBe(3);
    expect([...trimmed!.ids]).toEqual([1, 2, 3, 1, 2, 3]);
    expect([...trimmed!.attentionMask]).toEqual([1, 1, 0, 1, 1, 1]);
  });
});
