/** The paired activation store alone: pairs stay aligned through the seeded shuffle, and bad stores are refused. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Tensor, writeSafetensors } from "@difflens/tensor";
import { afterAll, describe, expect, it } from "vitest";
import { differenceSource, PairedStore, PairedStoreWriter } from "../src/methods/paired-store.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "methods-store-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const D = 3;
/** Row r: base = [r, r, r], chat = base + [1, 2, 3]; record window r / 4, position r % 4. */
async function writeStore(name: string, rows: number, shardRows: number): Promise<string> {
  const out = path.join(dir, name);
  const w = new PairedStoreWriter(
    out,
    { hook: "blocks.0.hook_resid_pre", dIn: D, base: "b", chat: "c", dataset: "x" },
    shardRows,
  );
  for (let r0 = 0; r0 < rows; r0 += 5) {
    const n = Math.min(5, rows - r0);
    const idx = Array.from({ length: n }, (_, i) => r0 + i);
    await w.append({
      rows: n,
      base: Float32Array.from(idx.flatMap((r) => [r, r, r])),
      chat: Float32Array.from(idx.flatMap((r) => [r + 1, r + 2, r + 3])),
      window: Int32Array.from(idx, (r) => r >> 2),
      position: Int32Array.from(idx, (r) => r % 4),
      assistantOffset: Int32Array.from(idx, () => -1),
    });
  }
  await w.finish();
  return out;
}

describe("paired activation store", () => {
  it("keeps each base row with its chat row through the seeded shuffle and replays identically", async () => {
    const store = PairedStore.open(await writeStore("ok", 23, 10), { dIn: D });
    expect(store.manifest.tokenCount).toBe(23);
    const pass = async () => {
      const seen: number[] = [];
      for await (const { base, chat } of store.source({ batchSize: 4, seed: 7, epochs: 2 })) {
        const b = base.data as Float32Array,
          c = chat.data as Float32Array;
        for (let r = 0; r < base.shape[0]!; r++) {
          expect([c[r * D]! - b[r * D]!, c[r * D + 1]! - b[r * D + 1]!, c[r * D + 2]! - b[r * D + 2]!]).toEqual([
            1, 2, 3,
          ]);
          seen.push(b[r * D]!);
        }
      }
      return seen;
    };
    const first = await pass();
    expect(first).toHaveLength(46);
    expect([...first].sort((a, b) => a - b)).toEqual(Array.from({ length: 46 }, (_, i) => i >> 1));
    expect(first.slice(0, 10)).not.toEqual(Array.from({ length: 10 }, (_, i) => i)); // shuffled
    expect(await pass()).toEqual(first);
    for await (const diff of differenceSource(store.source({ batchSize: 8 })))
      expect(Array.from((diff.data as Float32Array).slice(0, 3))).toEqual([1, 2, 3]);
  });

  it("refuses another hook or width, a folder without a manifest and a shard that disagrees with it", async () => {
    const good = await writeStore("bad", 7, 10);
    expect(() => PairedStore.open(good, { hook: "blocks.1.hook_resid_pre" })).toThrow(
      /holds hook blocks.0.hook_resid_pre, not blocks.1.hook_resid_pre/,
    );
    expect(() => PairedStore.open(good, { dIn: 4 })).toThrow(/holds dIn 3, not 4/);
    expect(() => PairedStore.open(path.join(dir, "none"))).toThrow(/no manifest.json/);
    expect(() => new PairedStoreWriter(good, { hook: "h", dIn: D, base: "b", chat: "c", dataset: "x" })).toThrow(
      /already holds a paired activation store/,
    );
    const store = PairedStore.open(good);
    const shard = path.join(good, store.manifest.shards[0]!.file);
    const z = (shape: number[], dtype: "f32" | "i32" = "f32") =>
      new Tensor(
        dtype,
        shape,
        dtype === "f32"
          ? new Float32Array(shape.reduce((a, b) => a * b))
          : new Int32Array(shape.reduce((a, b) => a * b)),
      );
    await writeSafetensors(shard, {
      base: z([7, D]),
      chat: z([6, D]),
      window: z([7], "i32"),
      position: z([7], "i32"),
      assistant_offset: z([7], "i32"),
    });
    await expect(store.shards().next()).rejects.toThrow(/chat is \[6, 3\], the manifest says \[7, 3\]/);
  });
});
