import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Rng, toFloat32Array } from "@difflens/tensor";
import { describe, expect, it } from "vitest";
import { ActivationStore, ActivationStoreWriter, ShuffleBuffer } from "../src/index.ts";
import { collect, tempDir } from "./helpers.ts";

const provenance = {
  model: "tiny-qwen2",
  hook: "blocks.1.hook_resid_pre",
  dataset: "pile-tiny",
  dIn: 4,
  dtype: "f32" as const,
};

/** Row r holds [r, r, r, r] so every row identifies itself after shuffling. */
function rows(from: number, count: number, width = 4): Float32Array {
  const out = new Float32Array(count * width);
  for (let r = 0; r < count; r++) out.fill(from + r, r * width, (r + 1) * width);
  return out;
}

async function writeStore(dir: string, total: number, shardRows: number, dtype: "f32" | "bf16" = "f32") {
  const writer = new ActivationStoreWriter(dir, { ...provenance, dtype }, shardRows);
  for (let start = 0; start < total; start += 7) await writer.append(rows(start, Math.min(7, total - start)));
  return writer.finish();
}

async function readIds(
  store: ActivationStore,
  options: { batchSize: number; bufferRows: number; seed: number; epochs?: number },
) {
  const batches = await collect(store.source(options));
  return batches.flatMap((batch) => {
    const values = toFloat32Array(batch);
    return Array.from({ length: batch.shape[0]! }, (_, r) => values[r * 4]!);
  });
}

describe("activation store", () => {
  it("round-trips every row through shards and a manifest", async () => {
    const dir = tempDir();
    const manifest = await writeStore(dir, 50, 16);
    expect(manifest.tokenCount).toBe(50);
    expect(manifest.shards.map((s) => s.rows)).toEqual([16, 16, 16, 2]);
    const store = ActivationStore.open(dir, { hook: provenance.hook, dIn: 4 });
    const ids = await readIds(store, { batchSize: 8, bufferRows: 0, seed: 0 });
    expect(ids).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it("shuffles through the buffer: every row exactly once, seeded, mixed across shards", async () => {
    const dir = tempDir();
    await writeStore(dir, 200, 32);
    const store = ActivationStore.open(dir);
    const a = await readIds(store, { batchSize: 10, bufferRows: 64, seed: 1 });
    const b = await readIds(store, { batchSize: 10, bufferRows: 64, seed: 1 });
    const c = await readIds(store, { batchSize: 10, bufferRows: 64, seed: 2 });
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    // The first batch draws from a buffer that spans two shards, so it is not a contiguous run.
    const first = a.slice(0, 10);
    expect(Math.max(...first) - Math.min(...first)).toBeGreaterThan(10);
    expect(await readIds(store, { batchSize: 10, bufferRows: 64, seed: 1, epochs: 2 })).toHaveLength(400);
  });

  it("stores bf16 shards within bf16 rounding", async () => {
    const dir = tempDir();
    await writeStore(dir, 20, 8, "bf16");
    const ids = await readIds(ActivationStore.open(dir, { dtype: "bf16" }), { batchSize: 5, bufferRows: 0, seed: 0 });
    ids.forEach((value, i) => expect(Math.abs(value - i)).toBeLessThanOrEqual(Math.max(1, i) * 2 ** -8));
  });

  it("refuses a store for another hook or width, an unfinished store and a missing shard", async () => {
    const dir = tempDir();
    const manifest = await writeStore(dir, 20, 8);
    expect(() => ActivationStore.open(dir, { hook: "blocks.2.hook_resid_pre" })).toThrow(
      /holds hook "blocks\.1\.hook_resid_pre", but "blocks\.2\.hook_resid_pre" was requested/,
    );
    expect(() => ActivationStore.open(dir, { dIn: 8 })).toThrow(/dIn 4/);
    expect(() => new ActivationStoreWriter(dir, provenance)).toThrow(/already holds an activation store/);
    rmSync(join(dir, manifest.shards[1]!.file));
    expect(() => ActivationStore.open(dir)).toThrow(/shard-00001\.safetensors listed in manifest\.json is missing/);
    const unfinished = tempDir();
    const writer = new ActivationStoreWriter(unfinished, provenance, 4);
    await writer.append(rows(0, 9));
    expect(() => ActivationStore.open(unfinished)).toThrow(/no manifest\.json/);
    const tampered = tempDir();
    await writeStore(tampered, 10, 8);
    const path = join(tampered, "manifest.json");
    writeFileSync(path, readFileSync(path, "utf8").replace('"tokenCount": 10', '"tokenCount": 11'));
    expect(() => ActivationStore.open(tampered)).toThrow(/field "tokenCount" should be the sum of shard rows \(10\)/);
  });

  it("ShuffleBuffer draws each pushed row once", () => {
    const buffer = new ShuffleBuffer(10, 2, new Rng(5));
    const source = Float32Array.from({ length: 20 }, (_, i) => Math.floor(i / 2));
    expect(buffer.push(source, 0)).toBe(10);
    const drawn = buffer.take(10);
    expect(Array.from({ length: 10 }, (_, r) => drawn[r * 2]).sort((a, b) => a! - b!)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
    expect(buffer.size).toBe(0);
  });
});
