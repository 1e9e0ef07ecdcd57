import { useBackend } from "@difflens/tensor";
import { beforeAll, describe, expect, it } from "vitest";
import { createRandomQwen2, forceFeed, forceFeedBatch, HookError, InputError, type Model } from "../src/index.ts";
import { availableBackends, relErr } from "./helpers.ts";

// Different prompt and continuation lengths so every row but the longest is left-padded.
const ITEMS = [
  { prompt: [5, 9, 2], continuation: [33, 1, 7, 60, 12] },
  { prompt: [17, 8, 40, 41, 42, 43, 44], continuation: [3, 4] },
  { prompt: [11], continuation: [20, 21, 22, 23, 24, 25, 26, 27, 28] },
  { prompt: [50, 51, 52, 53], continuation: [0] },
];
const HOOKS = ["blocks.1.hook_resid_post", "blocks.0.attn.hook_pattern", "blocks.1.attn.hook_rot_k"];

describe.each(availableBackends())("forceFeedBatch (%s backend)", (backend) => {
  let model: Model;
  beforeAll(() => {
    useBackend(backend);
    model = createRandomQwen2({
      config: { vocabSize: 64, dModel: 32, nLayers: 2, nHeads: 4, nKvHeads: 2, dMlp: 48, maxPositions: 16 },
      seed: 3,
    });
  });

  it("matches forceFeed on each item alone: step logits and hooks at real positions (1e-5)", async () => {
    useBackend(backend);
    let padShape: readonly number[] = [];
    const batch = await model.withHooks(
      {
        "blocks.0.hook_resid_pre": (t) => {
          padShape = t.shape;
        },
      },
      () => forceFeedBatch(model, ITEMS, { names: HOOKS }),
    );
    expect(padShape).toEqual([4, 10, 32]); // user hooks see the padded batch
    expect(batch.width).toBe(10);
    for (const [b, it] of ITEMS.entries()) {
      const alone = await forceFeed(model, it.prompt, it.continuation, { names: HOOKS });
      const mine = batch.items[b]!;
      expect(mine.offset).toBe(10 - it.prompt.length - it.continuation.length);
      expect(mine.stepLogits.shape).toEqual([it.continuation.length, 64]);
      expect(relErr(mine.stepLogits, alone.stepLogits), `item ${b} logits`).toBeLessThan(1e-5);
      for (const name of HOOKS) {
        expect(mine.cache.get(name).shape, `item ${b} ${name}`).toEqual(alone.cache.get(name).shape);
        expect(relErr(mine.cache.get(name), alone.cache.get(name)), `item ${b} ${name}`).toBeLessThan(1e-5);
      }
    }
  });

  it("keeps per-item positions (negative from each item's end), and nothing when no hooks are asked", async () => {
    useBackend(backend);
    const name = "blocks.0.attn.hook_pattern";
    const batch = await forceFeedBatch(model, ITEMS, { filter: (n) => n === name, positions: [0, -1] });
    for (const [b, it] of ITEMS.entries()) {
      const alone = await forceFeed(model, it.prompt, it.continuation, { names: [name], positions: [0, -1] });
      expect(batch.items[b]!.cache.positions).toEqual(alone.cache.positions);
      expect(relErr(batch.items[b]!.cache.get(name), alone.cache.get(name))).toBeLessThan(1e-5);
    }
    expect((await forceFeedBatch(model, ITEMS.slice(0, 2))).items.map((r) => r.cache.size)).toEqual([0, 0]);
  });

  it("takes a position list per item", async () => {
    useBackend(backend);
    const perRow = [[0], [-1], [2, 9], [1, 0]];
    const batch = await forceFeedBatch(model, ITEMS, { names: HOOKS, positions: { perRow } });
    for (const [b, it] of ITEMS.entries()) {
      const alone = await forceFeed(model, it.prompt, it.continuation, { names: HOOKS, positions: perRow[b] });
      expect(batch.items[b]!.cache.positions).toEqual(alone.cache.positions);
      for (const name of HOOKS) {
        expect(relErr(batch.items[b]!.cache.get(name), alone.cache.get(name)), `item ${b} ${name}`).toBeLessThan(1e-5);
      }
    }
  });

  it("rejects bad input with forceFeed's error classes before any compute", async () => {
    useBackend(backend);
    let calls = 0;
    const run = (items: typeof ITEMS, opts = {}) =>
      model.withHooks({ hook_embed: () => void calls++ }, () => forceFeedBatch(model, items, opts));
    const cases: Array<[() => Promise<unknown>, unknown, RegExp]> = [
      [() => run([]), InputError, /no items/],
      [() => run([ITEMS[0]!, { prompt: [], continuation: [1] }]), InputError, /prompt of item 1 is empty/],
      [() => run([ITEMS[0]!, { prompt: [1], continuation: [] }]), InputError, /continuation of item 1 is empty/],
      [
        () => run([ITEMS[0]!, { prompt: [1], continuation: [2, 64] }]),
        InputError,
        /token id 64 at item 1 continuation\[1\]/,
      ],
      [
        () => run([{ prompt: new Array(10).fill(1), continuation: new Array(7).fill(2) }]),
        InputError,
        /17 tokens.*max_position_embeddings 16/,
      ],
      [() => run(ITEMS, { names: ["blocks.1.hook_resid_pots"] }), HookError, /did you mean "blocks.1.hook_resid_post"/],
      [() => run(ITEMS, { names: [HOOKS[0]], positions: [5] }), HookError, /position 5 is outside the 5 positions/],
    ];
    for (const [fn, cls, msg] of cases) {
      await expect(fn()).rejects.toThrow(cls as never);
      await expect(fn()).rejects.toThrow(msg);
    }
    await expect(forceFeed(model, [1], [2, 64])).rejects.toThrow(InputError); // the same class forceFeed uses
    expect(calls).toBe(0);
  });
});
