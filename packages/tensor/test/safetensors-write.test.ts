// Our writer against the independent Python reference's bytes (tools/reference/safetensors/make_fixtures.py) and
// against byte vectors from the reference library's own unit tests (huggingface/safetensors, safetensors/src/tensor.rs).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type { DType } from "../src/dtype.ts";
import {
  openCheckpoint,
  openSafetensors,
  readSafetensors,
  SafetensorsError,
  serializeSafetensors,
  writeSafetensors,
  writeShardedCheckpoint,
} from "../src/safetensors/index.ts";
import { writeStreamedAtomic } from "../src/safetensors/write.ts";
import { Tensor } from "../src/tensor.ts";

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "safetensors");
const fixture = (name: string): string => path.join(FIXTURES, name);
type TensorSpec = { dtype: string; shape: number[]; hex: string };
const expected = JSON.parse(fs.readFileSync(fixture("expected.json"), "utf8")) as {
  files: Record<string, { metadata: Record<string, string> | null; tensors: Record<string, TensorSpec> }>;
  sharded: { plan: { max_shard_bytes: number; order: string[]; total_size: number } };
};
const OURS: Record<string, DType> = {
  F32: "f32",
  F16: "f16",
  BF16: "bf16",
  I32: "i32",
  I64: "i64",
  U8: "u8",
  BOOL: "bool",
};

function tensorFromBytes(dtype: DType, shape: number[], bytes: Uint8Array): Tensor {
  const ab = new ArrayBuffer(bytes.length);
  new Uint8Array(ab).set(bytes);
  const n = shape.reduce((a, b) => a * b, 1);
  switch (dtype) {
    case "f32":
      return new Tensor(dtype, shape, new Float32Array(ab, 0, n));
    case "f16":
    case "bf16":
      return new Tensor(dtype, shape, new Uint16Array(ab, 0, n));
    case "i32":
      return new Tensor(dtype, shape, new Int32Array(ab, 0, n));
    case "i64":
      return new Tensor(dtype, shape, new BigInt64Array(ab, 0, n));
    case "u8":
    case "bool":
      return new Tensor(dtype, shape, new Uint8Array(ab, 0, n));
  }
}

function tensorsOf(spec: Record<string, TensorSpec>, order = Object.keys(spec)): Map<string, Tensor> {
  return new Map(
    order.map((name) => {
      const t = spec[name]!;
      return [name, tensorFromBytes(OURS[t.dtype]!, t.shape, Buffer.from(t.hex, "hex"))];
    }),
  );
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "difflens-st-write-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("writeSafetensors matches the reference byte for byte", () => {
  it.each(["all-dtypes.safetensors", "metadata-and-names.safetensors"])("%s", async (name) => {
    const spec = expected.files[name]!;
    // Insertion order reversed: the layout must not depend on it.
    const tensors = tensorsOf(spec.tensors, Object.keys(spec.tensors).reverse());
    const out = path.join(tmp, name);
    await writeSafetensors(out, tensors, spec.metadata ?? undefined);
    expect(Buffer.compare(fs.readFileSync(out), fs.readFileSync(fixture(name)))).toBe(0);
    expect(
      Buffer.compare(
        Buffer.from(serializeSafetensors(tensors, spec.metadata ?? undefined)),
        fs.readFileSync(fixture(name)),
      ),
    ).toBe(0);
  });

  it("reproduces the reference library's unit-test vectors", () => {
    const data = new Float32Array([0, 1, 2, 3, 4, 5]);
    const le = Buffer.from(data.buffer);
    const header = (n: number, json: string, pad: number): Buffer =>
      Buffer.concat([Buffer.from([n, 0, 0, 0, 0, 0, 0, 0]), Buffer.from(json), Buffer.alloc(pad, 0x20)]);
    expect(Buffer.from(serializeSafetensors({ "attn.0": new Tensor("f32", [1, 2, 3], data) }))).toEqual(
      Buffer.concat([header(64, '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}', 0), le]),
    );
    expect(Buffer.from(serializeSafetensors({ attn0: new Tensor("f32", [1, 1, 2, 3], data) }))).toEqual(
      Buffer.concat([header(72, '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}', 7), le]),
    );
    expect([...serializeSafetensors({})]).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    expect(Buffer.from(serializeSafetensors({}, { framework: "pt" }))).toEqual(
      header(40, '{"__metadata__":{"framework":"pt"}}', 5),
    );
  });
});

describe("writeShardedCheckpoint", () => {
  it("matches the reference shards and index byte for byte", async () => {
    const plan = expected.sharded.plan;
    const all: Record<string, TensorSpec> = {};
    for (const [file, spec] of Object.entries(expected.files)) {
      if (file.startsWith("sharded/")) Object.assign(all, spec.tensors);
    }
    const dir = path.join(tmp, "sharded");
    const result = await writeShardedCheckpoint(dir, tensorsOf(all, plan.order), {
      maxShardBytes: plan.max_shard_bytes,
      metadata: { format: "pt" },
    });
    expect(result.totalSize).toBe(plan.total_size);
    expect(result.files).toEqual(["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]);
    for (const f of [...result.files, "model.safetensors.index.json"]) {
      expect(Buffer.compare(fs.readFileSync(path.join(dir, f)), fs.readFileSync(fixture(`sharded/${f}`))), f).toBe(0);
    }
    expect(fs.readdirSync(dir).sort()).toEqual([...result.files, "model.safetensors.index.json"].sort());
  });

  it("writes one model.safetensors when everything fits, and removes a stale layout", async () => {
    const dir = path.join(tmp, "resave");
    const big = new Map([
      ["a", new Tensor("f32", [4], new Float32Array([1, 2, 3, 4]))],
      ["b", new Tensor("f32", [4], new Float32Array([5, 6, 7, 8]))],
      ["c", new Tensor("f32", [8], new Float32Array(8).fill(0.5))],
    ]);
    const sharded = await writeShardedCheckpoint(dir, big, { maxShardBytes: 20 });
    expect(sharded.files.length).toBe(3); // a 32-byte tensor over the limit gets its own shard
    expect((await openCheckpoint(dir)).keys().sort()).toEqual(["a", "b", "c"]);
    const single = await writeShardedCheckpoint(dir, big, { maxShardBytes: 1 << 20 });
    expect(single).toEqual({ files: ["model.safetensors"], index: null, totalSize: 64 });
    expect(fs.readdirSync(dir)).toEqual(["model.safetensors"]);
    await expect(writeShardedCheckpoint(dir, big, { maxShardBytes: 0 })).rejects.toMatchObject({
      code: "INVALID_OPTIONS",
    });
    await expect(writeShardedCheckpoint(dir, big, { maxShardBytes: 9, maxShardSize: 3 } as never)).rejects.toThrow(
      /did you mean "maxShardBytes"/,
    );
    const ckpt = await openCheckpoint(dir);
    expect([...(ckpt.get("c").data as Float32Array)]).toEqual(new Array(8).fill(0.5));
  });
});

describe("round trip and atomicity", () => {
  it("round-trips every dtype, views with offsets, and odd shapes", async () => {
    const backing = new Float32Array(10).map((_, i) => i / 3);
    const tensors: Record<string, Tensor> = {
      view: new Tensor("f32", [2, 3], backing.subarray(3, 9)), // byteOffset 12 into a larger buffer
      half: new Tensor("f16", [3], new Uint16Array([0x3c00, 0x8000, 0x7e00])),
      brain: new Tensor("bf16", [1, 1, 2], new Uint16Array([0x3f80, 0xff80])),
      idx: new Tensor("i64", [2], new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n])),
      i: new Tensor("i32", [], new Int32Array([-7])),
      b: new Tensor("bool", [0, 4], new Uint8Array(0)),
      u: new Tensor("u8", [5], new Uint8Array([0, 1, 2, 254, 255])),
    };
    const p = path.join(tmp, "roundtrip.safetensors");
    await writeSafetensors(p, tensors, { note: "x" });
    for (const mmap of [true, false]) {
      const file = await openSafetensors(p, { mmap });
      for (const [name, t] of Object.entries(tensors)) {
        const got = file.get(name);
        expect(got.dtype).toBe(t.dtype);
        expect(got.shape).toEqual(t.shape);
        expect([...got.data]).toEqual([...t.data]);
      }
      file.close();
    }
    const { metadata } = await readSafetensors(p);
    expect(metadata).toEqual({ note: "x" });
    expect(fs.readdirSync(tmp).filter((f) => f.includes(".tmp-"))).toEqual([]);
  });

  it("keeps the old file and leaves no temp file when a write fails", async () => {
    const p = path.join(tmp, "atomic.safetensors");
    await writeSafetensors(p, { a: new Tensor("u8", [1], new Uint8Array([1])) });
    const before = fs.readFileSync(p);
    await expect(
      writeStreamedAtomic(p, async (h) => {
        await h.write(Buffer.from("partial"));
        throw new Error("disk full");
      }),
    ).rejects.toMatchObject({ code: "IO_ERROR" });
    expect(fs.readFileSync(p)).toEqual(before);
    expect(fs.readdirSync(tmp).filter((f) => f.startsWith("atomic.safetensors.tmp-"))).toEqual([]);
    await expect(writeSafetensors(path.join(tmp, "no-such-dir", "x.safetensors"), {})).rejects.toMatchObject({
      code: "IO_ERROR",
    });
  });

  it("refuses names, metadata and tensors it cannot write faithfully", async () => {
    const t = new Tensor("u8", [1], new Uint8Array([1]));
    const cases: Array<[() => Uint8Array, string]> = [
      [() => serializeSafetensors({ __metadata__: t }), "INVALID_NAME"],
      [() => serializeSafetensors({ ["bad\ud800"]: t }), "INVALID_NAME"],
      [() => serializeSafetensors({ a: t }, { n: 3 as unknown as string }), "INVALID_METADATA"],
      [() => serializeSafetensors({ a: new Tensor("bool", [2], new Uint8Array([1, 2])) }), "INVALID_TENSOR"],
      [() => serializeSafetensors({ a: { dtype: "f32" } as unknown as Tensor }), "INVALID_TENSOR"],
    ];
    for (const [run, code] of cases) {
      let caught: unknown;
      try {
        run();
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(SafetensorsError);
      expect((caught as SafetensorsError).code).toBe(code);
    }
  });
});
