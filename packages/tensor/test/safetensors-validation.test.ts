// Every kind of bad file the issue names, each through the in-memory parser and through openSafetensors on disk:
// the same stable code, the file, and the tensor when one is concerned.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  openSafetensors,
  parseSafetensorsHeader,
  SafetensorsError,
  type SafetensorsErrorCode,
} from "../src/safetensors/index.ts";

/** prefix(n) + header text (+ space padding to 8 when pad) + data bytes. */
function craft(
  header: string | object,
  dataBytes: number | Uint8Array = 0,
  opts: { pad?: boolean; length?: bigint } = {},
): Uint8Array {
  const text = typeof header === "string" ? header : JSON.stringify(header);
  let json = Buffer.from(text, "utf8");
  if (opts.pad !== false) json = Buffer.concat([json, Buffer.alloc((8 - (json.length % 8)) % 8, 0x20)]);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(opts.length ?? BigInt(json.length));
  const data = typeof dataBytes === "number" ? Buffer.alloc(dataBytes, 7) : Buffer.from(dataBytes);
  return new Uint8Array(Buffer.concat([prefix, json, data]));
}
const f32 = (shape: number[], begin: number, end: number): object => ({
  dtype: "F32",
  shape,
  data_offsets: [begin, end],
});

interface Case {
  name: string;
  bytes: Uint8Array;
  code: SafetensorsErrorCode;
  tensor?: string;
}
const deep = `{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":${"[".repeat(100_000)}${"]".repeat(100_000)}}}`;
const cases: Case[] = [
  { name: "empty file", bytes: new Uint8Array(0), code: "HEADER_TOO_SMALL" },
  { name: "5-byte file", bytes: new Uint8Array([1, 0, 0, 0, 0]), code: "HEADER_TOO_SMALL" },
  { name: "header over 100 MB", bytes: craft("{}", 0, { length: 100_000_001n }), code: "HEADER_TOO_LARGE" },
  { name: "header length 2^64-1", bytes: craft("{}", 0, { length: 2n ** 64n - 1n }), code: "HEADER_TOO_LARGE" },
  {
    name: "header longer than the file (truncated header)",
    bytes: craft({ a: f32([2], 0, 8) }, 8).subarray(0, 30),
    code: "HEADER_LENGTH_EXCEEDS_FILE",
  },
  {
    name: "invalid UTF-8",
    bytes: craft(Buffer.concat([Buffer.from('{"a\xff":1}', "latin1")]).toString("latin1")).map((b) =>
      b === 0xc3 ? 0xff : b,
    ),
    code: "HEADER_NOT_UTF8",
  },
  { name: "not JSON", bytes: craft('{"a":'), code: "HEADER_NOT_JSON" },
  { name: "trailing garbage after the JSON", bytes: craft("{}x"), code: "HEADER_NOT_JSON" },
  { name: "JSON array", bytes: craft("[1,2]"), code: "HEADER_NOT_OBJECT" },
  { name: "leading whitespace", bytes: craft(" {}"), code: "HEADER_NOT_OBJECT" },
  { name: "empty header", bytes: craft("", 0, { pad: false }), code: "HEADER_NOT_OBJECT" },
  { name: "nesting 100k deep", bytes: craft(deep, 1), code: "HEADER_NOT_JSON" },
  {
    name: "lone surrogate escape",
    bytes: craft('{"\\ud800":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', 1),
    code: "HEADER_NOT_JSON",
  },
  {
    name: "duplicate tensor key",
    bytes: craft(
      '{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}',
      2,
    ),
    code: "DUPLICATE_KEY",
    tensor: "w",
  },
  {
    name: "duplicate field in an entry",
    bytes: craft('{"w":{"dtype":"U8","dtype":"F32","shape":[1],"data_offsets":[0,1]}}', 1),
    code: "DUPLICATE_KEY",
    tensor: "w",
  },
  {
    name: "duplicate metadata key",
    bytes: craft('{"__metadata__":{"a":"1","a":"2"}}'),
    code: "DUPLICATE_KEY",
    tensor: "__metadata__",
  },
  { name: "metadata value not a string", bytes: craft({ __metadata__: { step: 3 } }), code: "BAD_METADATA" },
  { name: "metadata is an array", bytes: craft({ __metadata__: ["a"] }), code: "BAD_METADATA" },
  { name: "entry not an object", bytes: craft({ w: [1, 2] }), code: "BAD_TENSOR_INFO", tensor: "w" },
  {
    name: "entry without dtype",
    bytes: craft({ w: { shape: [1], data_offsets: [0, 4] } }, 4),
    code: "BAD_TENSOR_INFO",
    tensor: "w",
  },
  {
    name: "dtype not a string",
    bytes: craft({ w: { dtype: 4, shape: [1], data_offsets: [0, 4] } }, 4),
    code: "BAD_TENSOR_INFO",
    tensor: "w",
  },
  {
    name: "unknown dtype",
    bytes: craft({ w: { dtype: "F31", shape: [1], data_offsets: [0, 4] } }, 4),
    code: "UNKNOWN_DTYPE",
    tensor: "w",
  },
  {
    name: "lowercase dtype",
    bytes: craft({ w: { dtype: "f32", shape: [1], data_offsets: [0, 4] } }, 4),
    code: "UNKNOWN_DTYPE",
    tensor: "w",
  },
  { name: "negative dimension", bytes: craft({ w: f32([-1], 0, 4) }, 4), code: "BAD_SHAPE", tensor: "w" },
  { name: "fractional dimension", bytes: craft({ w: f32([2.5], 0, 10) }, 10), code: "BAD_SHAPE", tensor: "w" },
  {
    name: "dimension 2.0",
    bytes: craft('{"w":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}', 8),
    code: "BAD_SHAPE",
    tensor: "w",
  },
  {
    name: "dimension as a string",
    bytes: craft({ w: { dtype: "F32", shape: ["2"], data_offsets: [0, 8] } }, 8),
    code: "BAD_SHAPE",
    tensor: "w",
  },
  {
    name: "shape not an array",
    bytes: craft({ w: { dtype: "F32", shape: 2, data_offsets: [0, 8] } }, 8),
    code: "BAD_SHAPE",
    tensor: "w",
  },
  {
    name: "shape overflowing 2^53 elements",
    bytes: craft({ w: f32([2 ** 30, 2 ** 30, 2 ** 30], 0, 4) }, 4),
    code: "BAD_SHAPE",
    tensor: "w",
  },
  { name: "begin after end", bytes: craft({ w: f32([0], 8, 4) }, 8), code: "BAD_OFFSETS", tensor: "w" },
  {
    name: "one offset",
    bytes: craft({ w: { dtype: "F32", shape: [1], data_offsets: [0] } }, 4),
    code: "BAD_OFFSETS",
    tensor: "w",
  },
  { name: "negative offset", bytes: craft({ w: f32([1], -4, 0) }, 4), code: "BAD_OFFSETS", tensor: "w" },
  {
    name: "offset in exponent form",
    bytes: craft('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4e0]}}', 4),
    code: "BAD_OFFSETS",
    tensor: "w",
  },
  {
    name: "offset beyond 2^53",
    bytes: craft('{"w":{"dtype":"U8","shape":[1],"data_offsets":[18446744073709551615,0]}}', 1),
    code: "BAD_OFFSETS",
    tensor: "w",
  },
  {
    name: "overlapping tensors",
    bytes: craft({ a: f32([2], 0, 8), b: f32([2], 4, 12) }, 12),
    code: "OFFSETS_OVERLAP",
    tensor: "b",
  },
  {
    name: "same range twice",
    bytes: craft({ a: f32([2], 0, 8), b: f32([2], 0, 8) }, 8),
    code: "OFFSETS_OVERLAP",
    tensor: "b",
  },
  {
    name: "a hole between tensors",
    bytes: craft({ a: f32([1], 0, 4), b: f32([1], 8, 12) }, 12),
    code: "OFFSETS_GAP",
    tensor: "b",
  },
  { name: "first tensor not at 0", bytes: craft({ a: f32([1], 4, 8) }, 8), code: "OFFSETS_GAP", tensor: "a" },
  {
    name: "dtype × shape disagrees with offsets",
    bytes: craft({ a: f32([3], 0, 8) }, 8),
    code: "SIZE_MISMATCH",
    tensor: "a",
  },
  {
    name: "bf16 sized as f32",
    bytes: craft({ a: { dtype: "BF16", shape: [2], data_offsets: [0, 8] } }, 8),
    code: "SIZE_MISMATCH",
    tensor: "a",
  },
  {
    name: "odd count of 4-bit elements",
    bytes: craft({ a: { dtype: "F4", shape: [3], data_offsets: [0, 1] } }, 1),
    code: "SIZE_MISMATCH",
    tensor: "a",
  },
  {
    name: "truncated data section",
    bytes: craft({ a: f32([4], 0, 16) }, 16).subarray(0, craft({ a: f32([4], 0, 16) }, 16).length - 3),
    code: "OFFSETS_OUT_OF_RANGE",
    tensor: "a",
  },
  { name: "bytes after the last tensor", bytes: craft({ a: f32([1], 0, 4) }, 5), code: "TRAILING_BYTES" },
  { name: "data with no tensors", bytes: craft({}, 3), code: "TRAILING_BYTES" },
];

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "difflens-st-bad-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("bad safetensors files", () => {
  it.each(cases.map((c, i) => [c.name, c, i] as const))("%s", async (_name, c, i) => {
    const inMemory = (() => {
      try {
        parseSafetensorsHeader(c.bytes, "mem.safetensors");
        return null;
      } catch (e) {
        return e;
      }
    })();
    expect(inMemory).toBeInstanceOf(SafetensorsError);
    const err = inMemory as SafetensorsError;
    expect(err.code).toBe(c.code);
    expect(err.file).toBe("mem.safetensors");
    expect(err.tensor).toBe(c.tensor);
    expect(err.message).toContain("mem.safetensors");
    if (c.tensor !== undefined) expect(err.message).toContain(`"${c.tensor}"`);

    const p = path.join(tmp, `case-${i}.safetensors`);
    fs.writeFileSync(p, c.bytes);
    for (const mmap of [false, true]) {
      const onDisk = await openSafetensors(p, { mmap }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(onDisk).toBeInstanceOf(SafetensorsError);
      expect((onDisk as SafetensorsError).code).toBe(c.code);
      expect((onDisk as SafetensorsError).file).toBe(p);
    }
  });

  it("accepts the edge cases the format allows", () => {
    const ok: Array<[string, Uint8Array]> = [
      ["no tensors", craft({})],
      ["metadata null", craft({ __metadata__: null })],
      ["__proto__ as a tensor name", craft('{"__proto__":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', 1)],
      ["empty tensors sharing an offset", craft({ e1: f32([0], 0, 0), a: f32([1], 0, 4), e2: f32([0, 5], 4, 4) }, 4)],
      ["unknown extra field (ignored, like the reference)", craft({ a: { ...f32([1], 0, 4), note: "x" } }, 4)],
      ["unpadded header", craft({ a: f32([1], 0, 4) }, 4, { pad: false })],
      ["tab and newline padding", craft('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}\n\t ', 1)],
    ];
    for (const [name, bytes] of ok) {
      expect(() => parseSafetensorsHeader(bytes), name).not.toThrow();
    }
    const proto = parseSafetensorsHeader(ok[2]![1]);
    expect([...proto.tensors.keys()]).toEqual(["__proto__"]);
  });
});
