import { type Tensor, useBackend } from "@difflens/tensor";
import { padTokenRows } from "@difflens/tokenizer";
import { beforeAll, describe, expect, it } from "vitest";
import {
  addVector,
  clampDirection,
  createRandomQwen2,
  HookError,
  type HookSpec,
  harvest,
  type Model,
  type Positions,
  patchActivation,
  zeroAblateHead,
  zeroAblateMlp,
} from "../src/index.ts";
import { availableBackends, relErr } from "./helpers.ts";

// Three prompts of different lengths, each read at its own position (item coordinates: −1 = its last token).
const PROMPTS = [
  [5, 9, 2, 33, 17],
  [8, 40],
  [11, 20, 21, 22, 23, 24, 25, 26],
];
const READ = [[2], [-1], [5]];
const OTHER = PROMPTS.map((p) => p.map((t) => (t * 7 + 3) % 64)); // patch sources: same lengths, other tokens
const HOOKS = ["blocks.0.hook_resid_post", "blocks.1.attn.hook_pattern", "blocks.1.hook_mlp_out"];
const OUT = "blocks.1.hook_resid_post";
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const everyToken = { perRow: PROMPTS.map((p) => range(p.length)) };
const v = Float32Array.from({ length: 32 }, (_, i) => ((i * 5) % 7) - 3);
const CONFIG = { vocabSize: 64, dModel: 32, nLayers: 2, nHeads: 4, nKvHeads: 2, dMlp: 48 };

describe.each(availableBackends())("per-row positions (%s backend)", (backend) => {
  let model: Model;
  beforeAll(() => {
    useBackend(backend);
    model = createRandomQwen2({ config: CONFIG, seed: 3 });
  });

  describe.each(["left", "right"] as const)("%s padding", (padding) => {
    const batchOf = (rows: number[][]) => padTokenRows(rows, { padding, padTokenId: 0 });

    it("runWithCache: each item's entries equal a run on that item alone (1e-5)", async () => {
      useBackend(backend);
      const { cache } = await model.runWithCache(batchOf(PROMPTS), { names: HOOKS, positions: { perRow: READ } });
      expect(cache.rowPositions).toEqual([[2], [1], [5]]);
      for (const [b, prompt] of PROMPTS.entries()) {
        const alone = (await model.runWithCache(prompt, { names: HOOKS, positions: READ[b] })).cache;
        for (const name of HOOKS) {
          expect(cache.item(b, name).shape, `item ${b} ${name}`).toEqual(alone.get(name).shape);
          expect(relErr(cache.item(b, name), alone.get(name)), `item ${b} ${name}`).toBeLessThan(1e-5);
        }
      }
      // one vector per item at its readout position, stacked: [items, 1, dModel]
      const vectors = cache.get("blocks.0.hook_resid_post");
      expect(vectors.shape).toEqual([3, 1, 32]);
      expect(relErr(vectors.data.subarray(32, 64) as Float32Array, cache.item(1, "blocks.0.hook_resid_post"))).toBe(0);
      // patterns keep each item's own keys, so they only come one by one
      expect(() => cache.get("blocks.1.attn.hook_pattern")).toThrow(/cache.item\(row/);
    });

    const interventions: Array<[string, (positions: Positions, row: number | null) => HookSpec | Promise<HookSpec>]> = [
      ["addVector", (positions) => addVector("blocks.0.hook_resid_post", v, { scale: 3, positions })],
      ["clampDirection", (positions) => clampDirection("blocks.0.hook_resid_mid", v, { value: 2, positions })],
      ["zeroAblateHead", (positions) => zeroAblateHead(0, 1, { positions })],
      ["zeroAblateMlp", (positions) => zeroAblateMlp(0, { positions })],
      [
        "patchActivation",
        async (positions, row) => {
          const hook = "blocks.1.hook_resid_pre";
          const source =
            row === null
              ? (await model.runWithCache(batchOf(OTHER), { names: [hook], positions })).cache.get(hook) // [3, 1, dModel]
              : (await model.runWithCache(OTHER[row]!, { names: [hook], positions })).cache.get(hook); // [1, 1, dModel]
          return patchActivation(hook, source, { positions });
        },
      ],
    ];
    it.each(interventions)(
      "%s at per-row positions equals single runs at the shared position (1e-5)",
      async (_, make) => {
        useBackend(backend);
        const tokens = batchOf(PROMPTS);
        const batched = await model.withHooks([await make({ perRow: READ }, null)], () =>
          model.runWithCache(tokens, { names: [OUT], positions: everyToken }),
        );
        for (const [b, prompt] of PROMPTS.entries()) {
          const alone = (
            await model.withHooks([await make(READ[b]!, b)], () => model.runWithCache(prompt, { names: [OUT] }))
          ).cache;
          const untouched = (await model.runWithCache(prompt, { names: [OUT] })).cache.get(OUT);
          expect(relErr(alone.get(OUT), untouched), `item ${b}: the intervention acts`).toBeGreaterThan(1e-3);
          expect(relErr(batched.cache.item(b, OUT), alone.get(OUT)), `item ${b}`).toBeLessThan(1e-5);
        }
      },
    );

    it("harvest reads each item's asked positions, in the order asked (1e-5)", async () => {
      useBackend(backend);
      const hook = "blocks.1.hook_resid_pre";
      const perRow = [[0, -1], [1], [5, 2]];
      const out: Tensor[] = [];
      for await (const t of harvest(model, hook, [{ tokens: batchOf(PROMPTS), positions: { perRow } }])) out.push(t);
      expect(out.map((t) => t.shape)).toEqual([[5, 32]]);
      const rows = out[0]!.data as Float32Array;
      let r = 0;
      for (const [b, prompt] of PROMPTS.entries()) {
        const alone = (await model.runWithCache(prompt, { names: [hook], positions: perRow[b] })).cache.get(hook);
        const n = perRow[b]!.length;
        expect(relErr(rows.subarray(r * 32, (r + n) * 32), alone), `item ${b}`).toBeLessThan(1e-5);
        r += n;
      }
    });
  });

  it("a TokenBatch keep mask drops positions from harvest as the nested form does", async () => {
    useBackend(backend);
    const keepMasks = PROMPTS.map((p) => p.map((_, i) => (i === 0 ? 0 : 1)));
    const tokens = padTokenRows(PROMPTS, { padding: "right", padTokenId: 0, keepMasks });
    const nested = {
      ids: PROMPTS.map((p) => [...p, ...new Array<number>(8 - p.length).fill(0)]),
      attentionMask: PROMPTS.map((p) => range(8).map((i) => (i < p.length ? 1 : 0))),
      keepMask: PROMPTS.map((p) => range(8).map((i) => (i > 0 && i < p.length ? 1 : 0))),
    };
    const read = async (input: Parameters<typeof harvest>[2]) => {
      const out: Tensor[] = [];
      for await (const t of harvest(model, "blocks.0.hook_mlp_out", input)) out.push(t);
      return out;
    };
    const [a, b] = [await read([tokens]), await read([nested])];
    expect(a[0]!.shape).toEqual([12, 32]);
    expect(relErr(a[0]!, b[0]!)).toBe(0);
  });

  it("with a KV cache, per-row positions count the call's tokens and keys include each row's cached real keys", async () => {
    useBackend(backend);
    const kv = model.createKvCache(3, 9);
    await model.forward(padTokenRows(PROMPTS, { padding: "left", padTokenId: 0 }), { kvCache: kv });
    const next = [[7], [13], [19]];
    const pattern = "blocks.1.attn.hook_pattern";
    const positions = { perRow: [[-1], [0], [0]] };
    const { cache } = await model.runWithCache(next, { names: [pattern], positions, kvCache: kv });
    for (const [b, prompt] of PROMPTS.entries()) {
      const alone = await model.runWithCache([...prompt, ...next[b]!], { names: [pattern], positions: [-1] });
      expect(cache.item(b, pattern).shape).toEqual([1, 4, 1, prompt.length + 1]);
      expect(relErr(cache.item(b, pattern), alone.cache.get(pattern)), `item ${b}`).toBeLessThan(1e-5);
    }
  });

  it("a position outside an item's tokens is an error naming the row, the position and the item's length", async () => {
    useBackend(backend);
    const tokens = padTokenRows(PROMPTS, { padding: "left", padTokenId: 0 });
    let calls = 0;
    const count = { hook_embed: () => void calls++ };
    const run = (positions: Positions) =>
      model.withHooks(count, () => model.runWithCache(tokens, { names: [OUT], positions }));
    const err = (await run({ perRow: [[0], [2], [0]] }).catch((e: unknown) => e)) as HookError;
    expect(err).toBeInstanceOf(HookError);
    expect(err.message).toMatch(/runWithCache: position 2 is outside the 2 positions of row 1/);
    expect(err.facts).toMatchObject({ row: 1, got: 2, length: 2 });
    await expect(run({ perRow: [[0], [-3], [0]] })).rejects.toThrow(/position -3 is outside the 2 positions of row 1/);
    await expect(run({ perRow: [[0], [0]] })).rejects.toThrow(/perRow has 2 rows; the batch has 3/);
    expect(calls).toBe(0); // checked before any compute
    const steer = (perRow: number[][]) => () =>
      model.withHooks([addVector(OUT, v, { positions: { perRow } })], () => model.forward(tokens));
    await expect(steer([[0], [0], [8]])()).rejects.toThrow(/position 8 is outside the 8 positions of row 2/);
    await expect(steer([[0], [2], [0]])()).rejects.toThrow(HookError);
    const source = harvest(model, OUT, [{ tokens, positions: { perRow: [[0], [0], [9]] } }]);
    await expect(
      (async () => {
        for await (const _ of source) void _;
      })(),
    ).rejects.toThrow(/harvest: position 9 is outside the 8 positions of row 2/);
  });
});
