// Our reader against files written by an independent Python reference (tools/reference/safetensors/make_fixtures.py,
// spec-only numpy writer checked against byte vectors from the reference library's unit tests).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { nativeMmap } from "../src/native-addon.ts";
import {
  type MapFile,
  type OpenSafetensorsOptions,
  openCheckpoint,
  openSafetensors,
  readSafetensors,
  SafetensorsError,
} from "../src/safetensors/index.ts";
import type { Tensor } from "../src/tensor.ts";

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "safetensors");
const fixture = (name: string): string => path.join(FIXTURES, name);
interface Expected {
  files: Record<
    string,
    {
      metadata: Record<string, string> | null;
      tensors: Record<string, { dtype: string; shape: number[]; hex: string }>;
    }
  >;
  all_dtypes_values: Record<
    string,
    { dtype: string; shape: number[]; bits?: number[]; values?: Array<number | string> }
  >;
  sharded: { tensors: Record<string, { dtype: string; shape: number[]; shard: string; bits: number[] }> };
}
const expected = JSON.parse(fs.readFileSync(fixture("expected.json"), "utf8")) as Expected;

/** A stand-in for the add-on's mapper: the whole file in one ArrayBuffer at offset 0, as a mapping would be. */
const fakeMapFile: MapFile = (p) => {
  const b = fs.readFileSync(p);
  const ab = new ArrayBuffer(b.length);
  new Uint8Array(ab).set(b);
  return ab;
};

/** The add-on's real mapper when it is built (null means not available: those tests are skipped, pread still runs). */
const nativeAvailable = nativeMmap(fixture("all-dtypes.safetensors")) !== null;

const ACCESS_MODES: Array<[string, OpenSafetensorsOptions]> = [
  ["pread", { mmap: false }],
  ["mapped (stand-in mapper)", { mapFile: fakeMapFile }],
  ...(nativeAvailable ? [["mapped (native add-on)", {}] as [string, OpenSafetensorsOptions]] : []),
];

function rawBits(t: Tensor): number[] | string[] {
  const d = t.data;
  if (d instanceof Float32Array) return [...new Uint32Array(d.buffer, d.byteOffset, d.length)];
  if (d instanceof BigInt64Array) return [...d].map(String);
  return [...(d as Uint16Array | Int32Array | Uint8Array)];
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "difflens-st-read-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe.each(ACCESS_MODES)("openSafetensors (%s)", (_label, options) => {
  it("reads every dtype, a scalar and an empty tensor bit-exactly", async () => {
    const file = await openSafetensors(fixture("all-dtypes.safetensors"), options);
    expect(file.access).toBe(options.mmap === false ? "pread" : "mmap");
    expect(file.metadata).toEqual({ format: "pt" });
    expect(new Set(file.keys())).toEqual(new Set(Object.keys(expected.all_dtypes_values)));
    const ours: Record<string, string> = {
      F32: "f32",
      F16: "f16",
      BF16: "bf16",
      I32: "i32",
      I64: "i64",
      U8: "u8",
      BOOL: "bool",
    };
    for (const [name, want] of Object.entries(expected.all_dtypes_values)) {
      const t = file.get(name);
      expect(t.dtype, name).toBe(ours[want.dtype]);
      expect(t.shape, name).toEqual(want.shape);
      expect(rawBits(t), name).toEqual(want.bits ?? want.values);
      expect(file.info(name).formatDtype).toBe(want.dtype);
    }
    expect(file.get("scale").shape).toEqual([]);
    expect(file.get("empty").size).toBe(0);
    file.close();
  });

  it("keeps metadata, escaped and non-ASCII names", async () => {
    const file = await openSafetensors(fixture("metadata-and-names.safetensors"), options);
    const want = expected.files["metadata-and-names.safetensors"]!;
    expect(file.metadata).toEqual(want.metadata);
    expect(new Set(file.keys())).toEqual(new Set(Object.keys(want.tensors)));
    for (const [name, t] of Object.entries(want.tensors)) {
      expect(Buffer.from(file.getBytes(name)).toString("hex"), name).toBe(t.hex);
    }
    expect([...(file.get("名前.weight").data as Float32Array)]).toEqual([1, -2]);
    file.close();
  });

  it("opens files with unsupported dtypes: info and raw bytes work, get names dtype, tensor and file", async () => {
    const p = fixture("unsupported-dtypes.safetensors");
    const file = await openSafetensors(p, options);
    const want = expected.files["unsupported-dtypes.safetensors"]!.tensors;
    for (const [name, t] of Object.entries(want)) {
      const info = file.info(name);
      expect(info.formatDtype).toBe(t.dtype);
      expect(info.shape).toEqual(t.shape);
      expect(Buffer.from(file.getBytes(name)).toString("hex")).toBe(t.hex);
      if (t.dtype === "F32") continue;
      expect(info.dtype).toBeNull();
      expect(() => file.get(name)).toThrowError(SafetensorsError);
      try {
        file.get(name);
      } catch (e) {
        const err = e as SafetensorsError;
        expect(err.code).toBe("UNSUPPORTED_DTYPE");
        expect(err.tensor).toBe(name);
        expect(err.message).toContain(`unsupported dtype ${t.dtype} for tensor "${name}" in file ${p}`);
      }
    }
    expect([...(file.get("ok.f32").data as Float32Array)]).toEqual([0.25, 4]);
    file.close();
  });

  it("reads a file without header padding (misaligned f32)", async () => {
    const file = await openSafetensors(fixture("unpadded.safetensors"), options);
    expect(file.info("w").byteOffset % 4).not.toBe(0);
    expect([...(file.get("w").data as Float32Array)]).toEqual([1.5, -2.25, 3]);
    expect([...(file.get("b").data as Uint8Array)]).toEqual([5]);
    file.close();
  });

  it("reports unknown names and use after close", async () => {
    const file = await openSafetensors(fixture("all-dtypes.safetensors"), options);
    expect(() => file.get("layers.1.weight")).toThrow(/TENSOR_NOT_FOUND.*layers\.1\.weight/);
    file.close();
    expect(() => file.get("mask")).toThrow(/CLOSED/);
  });
});

describe("memory-mapped access", () => {
  it("returns views into the mapping when aligned and copies when not", async () => {
    let mapped: ArrayBuffer | null = null;
    const spy: MapFile = (p) => (mapped = fakeMapFile(p));
    const file = await openSafetensors(fixture("all-dtypes.safetensors"), { mapFile: spy });
    const w = file.get("layers.0.weight");
    expect(w.data.buffer).toBe(mapped);
    expect(w.data.byteOffset).toBe(file.info("layers.0.weight").byteOffset);
    const unpadded = await openSafetensors(fixture("unpadded.safetensors"), { mapFile: spy });
    const u = unpadded.get("w");
    expect(u.data.buffer).not.toBe(mapped);
    expect(u.data.byteOffset).toBe(0);
    // Views outlive close(): the mapping belongs to the ArrayBuffer, not to the file object.
    file.close();
    expect(w.data[0]).toBe(0);
  });

  it("rejects unknown options, naming the nearest valid one", async () => {
    await expect(
      openSafetensors(fixture("all-dtypes.safetensors"), { mmapp: false } as OpenSafetensorsOptions),
    ).rejects.toThrow(/INVALID_OPTIONS.*"mmapp".*did you mean "mmap"/);
    await expect(openCheckpoint(fixture("sharded"), { map: true } as OpenSafetensorsOptions)).rejects.toMatchObject({
      code: "INVALID_OPTIONS",
    });
  });

  it("falls back to pread when the mapper fails, and says why", async () => {
    const file = await openSafetensors(fixture("all-dtypes.safetensors"), {
      mapFile: () => {
        throw new Error("ENOMEM");
      },
    });
    expect(file.access).toBe("pread");
    expect(file.mmapUnavailableReason).toContain("ENOMEM");
    expect(file.get("mask").size).toBe(6);
    file.close();
  });
});

describe.skipIf(!nativeAvailable)("native add-on mmap", () => {
  it("maps by default and hands out zero-copy views of one mapping", async () => {
    const file = await openSafetensors(fixture("all-dtypes.safetensors"));
    expect(file.access).toBe("mmap");
    const a = file.get("layers.0.weight");
    const b = file.get("ids.i64");
    expect(a.data.buffer).toBe(b.data.buffer);
    expect(a.data.buffer.byteLength).toBe(fs.statSync(fixture("all-dtypes.safetensors")).size);
    expect(a.data.byteOffset).toBe(file.info("layers.0.weight").byteOffset);
    file.close();
  });

  it("copies misaligned tensors, and writes into views never reach the file (private copy-on-write)", async () => {
    const p = path.join(tmp, "cow.safetensors");
    fs.copyFileSync(fixture("unpadded.safetensors"), p);
    const before = fs.readFileSync(p);
    const file = await openSafetensors(p);
    expect(file.access).toBe("mmap");
    const w = file.get("w");
    expect(w.data.byteOffset).toBe(0); // copied: f32 cannot start at an odd file offset
    const u = file.get("b"); // u8 needs no alignment: a view
    expect(u.data.byteOffset).toBe(file.info("b").byteOffset);
    (u.data as Uint8Array)[0] = 99;
    expect(file.get("b").data[0]).toBe(99); // same process sees its private page
    file.close();
    expect(fs.readFileSync(p)).toEqual(before);
  });
});

describe("files over 4 GiB (sparse, so no disk is used)", () => {
  it("reads a tensor past the 4 GiB mark and refuses one longer than a typed array can be", async () => {
    const p = path.join(tmp, "sparse-5g.safetensors");
    const big = 5 * 2 ** 30;
    const json = `{"a.big":{"dtype":"U8","shape":[${big}],"data_offsets":[0,${big}]},"b.tail":{"dtype":"F32","shape":[4],"data_offsets":[${big},${big + 16}]}}`;
    const header = Buffer.from(json + " ".repeat((8 - (json.length % 8)) % 8));
    const prefix = Buffer.alloc(8);
    prefix.writeBigUInt64LE(BigInt(header.length));
    const fd = fs.openSync(p, "w");
    fs.writeSync(fd, Buffer.concat([prefix, header]));
    fs.writeSync(fd, Buffer.from(new Float32Array([1, 2, 3, 4]).buffer), 0, 16, 8 + header.length + big);
    fs.closeSync(fd);
    for (const mmap of [true, false]) {
      const file = await openSafetensors(p, { mmap });
      // Too big for one ArrayBuffer: mapped tensor by tensor (mmapRange) when the add-on has it.
      expect(file.access).toBe(mmap && nativeAvailable ? "mmap" : "pread");
      const tail = file.get("b.tail");
      expect([...(tail.data as Float32Array)]).toEqual([1, 2, 3, 4]);
      if (file.access === "mmap") {
        (tail.data as Float32Array)[0] = 9; // private copy-on-write page: the file is untouched
      }
      expect(() => file.get("a.big")).toThrow(/TENSOR_TOO_LARGE.*"a\.big"/);
      file.close();
      expect([...(tail.data as Float32Array)].slice(1)).toEqual([2, 3, 4]); // views outlive close()
    }
    const check = await openSafetensors(p, { mmap: false });
    expect([...(check.get("b.tail").data as Float32Array)]).toEqual([1, 2, 3, 4]);
    check.close();
    fs.rmSync(p);
  });
});

describe("readSafetensors", () => {
  it("reads everything eagerly", async () => {
    const { tensors, metadata } = await readSafetensors(fixture("all-dtypes.safetensors"));
    expect(metadata).toEqual({ format: "pt" });
    expect(Object.keys(tensors).sort()).toEqual(Object.keys(expected.all_dtypes_values).sort());
    expect(rawBits(tensors["ids.i64"]!)).toEqual(expected.all_dtypes_values["ids.i64"]!.values);
  });

  it("rejects files it cannot read with IO_ERROR", async () => {
    await expect(readSafetensors(path.join(tmp, "nope.safetensors"))).rejects.toMatchObject({ code: "IO_ERROR" });
  });
});

describe("openCheckpoint", () => {
  it("reads a sharded checkpoint through its index as one set of tensors", async () => {
    for (const [, options] of ACCESS_MODES) {
      const ckpt = await openCheckpoint(fixture("sharded"), options);
      expect(ckpt.files.length).toBe(2);
      expect(ckpt.indexMetadata).toEqual({ total_size: 160 });
      expect(ckpt.metadata).toEqual({ format: "pt" });
      expect(new Set(ckpt.keys())).toEqual(new Set(Object.keys(expected.sharded.tensors)));
      for (const [name, want] of Object.entries(expected.sharded.tensors)) {
        expect(path.basename(ckpt.info(name).file)).toBe(want.shard);
        const t = ckpt.get(name);
        expect(t.shape).toEqual(want.shape);
        expect(rawBits(t)).toEqual(want.bits);
      }
      ckpt.close();
    }
  });

  it("opens a single file, a folder with model.safetensors, and an index path", async () => {
    const single = path.join(tmp, "single");
    fs.mkdirSync(single);
    fs.copyFileSync(fixture("all-dtypes.safetensors"), path.join(single, "model.safetensors"));
    expect((await openCheckpoint(single)).keys().length).toBe(9);
    expect((await openCheckpoint(fixture("all-dtypes.safetensors"))).keys().length).toBe(9);
    expect((await openCheckpoint(fixture("sharded/model.safetensors.index.json"))).keys().length).toBe(5);
  });

  function shardedCopy(name: string, editIndex?: (index: { weight_map: Record<string, string> }) => void): string {
    const dir = path.join(tmp, name);
    fs.cpSync(fixture("sharded"), dir, { recursive: true });
    if (editIndex) {
      const p = path.join(dir, "model.safetensors.index.json");
      const index = JSON.parse(fs.readFileSync(p, "utf8")) as { weight_map: Record<string, string> };
      editIndex(index);
      fs.writeFileSync(p, JSON.stringify(index));
    }
    return dir;
  }

  it("names the index and the shard when a shard is missing", async () => {
    const dir = shardedCopy("missing");
    fs.rmSync(path.join(dir, "model-00002-of-00002.safetensors"));
    const err = await openCheckpoint(dir).catch((e: unknown) => e as SafetensorsError);
    expect(err).toBeInstanceOf(SafetensorsError);
    expect((err as SafetensorsError).code).toBe("MISSING_SHARD");
    expect((err as SafetensorsError).file).toBe(path.join(dir, "model.safetensors.index.json"));
    expect((err as SafetensorsError).message).toContain("model-00002-of-00002.safetensors");
  });

  it("rejects an index key absent from its shard", async () => {
    const dir = shardedCopy("absent", (i) => {
      i.weight_map["model.layers.9.weight"] = "model-00001-of-00002.safetensors";
    });
    await expect(openCheckpoint(dir)).rejects.toMatchObject({
      code: "INDEX_KEY_NOT_IN_SHARD",
      tensor: "model.layers.9.weight",
    });
  });

  it("rejects a tensor present in two shards", async () => {
    const dir = shardedCopy("dup");
    fs.copyFileSync(path.join(dir, "model-00001-of-00002.safetensors"), path.join(dir, "extra.safetensors"));
    const p = path.join(dir, "model.safetensors.index.json");
    const index = JSON.parse(fs.readFileSync(p, "utf8")) as { weight_map: Record<string, string> };
    index.weight_map["model.embed_tokens.weight"] = "extra.safetensors"; // the index itself is consistent
    fs.writeFileSync(p, JSON.stringify(index));
    const err = (await openCheckpoint(dir).catch((e: unknown) => e)) as SafetensorsError;
    expect(err.code).toBe("DUPLICATE_TENSOR");
    expect(Object.keys(expected.sharded.tensors)).toContain(err.tensor);
    expect(err.message).toMatch(/extra\.safetensors and model-00001-of-00002\.safetensors/);
  });

  it("rejects a bad index, a key listed twice, and a folder without a checkpoint", async () => {
    const bad = shardedCopy("bad-index");
    fs.writeFileSync(path.join(bad, "model.safetensors.index.json"), '{"weight_map": ["x"]}');
    await expect(openCheckpoint(bad)).rejects.toMatchObject({ code: "BAD_INDEX" });
    const escape = shardedCopy("escape", (i) => {
      i.weight_map["lm_head.weight"] = "../x.safetensors";
    });
    await expect(openCheckpoint(escape)).rejects.toMatchObject({ code: "BAD_INDEX", tensor: "lm_head.weight" });
    const twice = shardedCopy("twice");
    const p = path.join(twice, "model.safetensors.index.json");
    fs.writeFileSync(
      p,
      fs
        .readFileSync(p, "utf8")
        .replace('"weight_map": {', '"weight_map": {"lm_head.weight": "model-00001-of-00002.safetensors",'),
    );
    await expect(openCheckpoint(twice)).rejects.toMatchObject({ code: "DUPLICATE_TENSOR", tensor: "lm_head.weight" });
    const empty = path.join(tmp, "empty-dir");
    fs.mkdirSync(empty);
    await expect(openCheckpoint(empty)).rejects.toMatchObject({ code: "CHECKPOINT_NOT_FOUND" });
  });
});
