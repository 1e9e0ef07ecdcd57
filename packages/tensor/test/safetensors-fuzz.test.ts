// Seeded fuzz: thousands of mutated headers, truncations and bit flips of valid files. Each case must either open and
// read consistently (every tensor's bytes are exactly its slice of the file, sizes agree with dtype × shape, the
// ranges tile the data section) or throw a SafetensorsError — never another exception type, never a hang.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { nativeMmap } from "../src/native-addon.ts";
import {
  loadSafetensorsFromBytes,
  openSafetensors,
  SafetensorsError,
  type SafetensorsFile,
  serializeSafetensors,
} from "../src/safetensors/index.ts";
import { Tensor } from "../src/tensor.ts";

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "safetensors");

/** mulberry32: tiny, seeded, the same stream everywhere. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function corpus(): Uint8Array[] {
  const files = [
    "all-dtypes.safetensors",
    "metadata-and-names.safetensors",
    "unsupported-dtypes.safetensors",
    "unpadded.safetensors",
    "sharded/model-00001-of-00002.safetensors",
  ];
  const out: Uint8Array[] = files.map((f) => new Uint8Array(fs.readFileSync(path.join(FIXTURES, f))));
  out.push(
    serializeSafetensors(
      {
        a: new Tensor("f32", [3, 2], new Float32Array([1, 2, 3, 4, 5, 6])),
        b: new Tensor("bf16", [2], new Uint16Array([0x3f80, 0x4000])),
        c: new Tensor("i64", [1], new BigInt64Array([5n])),
        d: new Tensor("bool", [3], new Uint8Array([1, 0, 1])),
      },
      { k: "v" },
    ),
  );
  return out;
}

const JSON_CHARS = '{}[]":,0123456789-.eE +tfnul\\_aFIUB'.split("").map((c) => c.charCodeAt(0));
const DTYPES = [
  "F32",
  "F16",
  "BF16",
  "I32",
  "I64",
  "U8",
  "BOOL",
  "F64",
  "I8",
  "F4",
  "F6_E2M3",
  "F8_E4M3",
  "C64",
  "X9",
  "",
];

function headerSpan(bytes: Uint8Array): number {
  if (bytes.length < 8) return 0;
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return Math.min(n, bytes.length - 8);
}

function withPrefix(header: Uint8Array, data: Uint8Array, fixLength = true, lengthDelta = 0): Uint8Array {
  const out = new Uint8Array(8 + header.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(Math.max(0, (fixLength ? header.length : 0) + lengthDelta)), true);
  out.set(header, 8);
  out.set(data, 8 + header.length);
  return out;
}

/** Edits the parsed header JSON (offsets, shapes, dtypes, fields, duplicates) and re-frames it correctly. */
function jsonMutation(base: Uint8Array, r: () => number): Uint8Array {
  const n = headerSpan(base);
  const header = JSON.parse(Buffer.from(base.subarray(8, 8 + n)).toString("utf8")) as Record<
    string,
    Record<string, unknown>
  >;
  const data = base.subarray(8 + n);
  const names = Object.keys(header).filter((k) => k !== "__metadata__");
  const name = names[Math.floor(r() * names.length)];
  const entry = name === undefined ? undefined : header[name];
  const pick = Math.floor(r() * 9);
  let text: string | undefined;
  if (entry !== undefined) {
    const offsets = entry.data_offsets as number[];
    const shape = entry.shape as number[];
    switch (pick) {
      case 0:
        offsets[Math.floor(r() * 2)]! += Math.floor(r() * 17) - 8;
        break;
      case 1:
        if (shape.length > 0) shape[Math.floor(r() * shape.length)] = Math.floor(r() * 7) - 1;
        else shape.push(2);
        break;
      case 2:
        entry.dtype = DTYPES[Math.floor(r() * DTYPES.length)];
        break;
      case 3:
        delete entry[["dtype", "shape", "data_offsets"][Math.floor(r() * 3)]!];
        break;
      case 4:
        entry.data_offsets = [offsets[0], offsets[1], 0];
        break;
      case 5:
        header[`${name}.copy`] = { ...entry };
        break;
      case 6: {
        const json = JSON.stringify(header);
        const key = JSON.stringify(name);
        text = json.replace(`${key}:`, `${key}:${JSON.stringify(entry)},${key}:`); // duplicate key, JSON.parse would hide it
        break;
      }
      case 7:
        header.__metadata__ = r() < 0.5 ? ({ x: 1 } as unknown as Record<string, unknown>) : { y: "ok" };
        break;
      default:
        shape.splice(0, shape.length, ...shape.reverse());
        break;
    }
  }
  const bytes = Buffer.from(text ?? JSON.stringify(header), "utf8");
  const truncateData = r() < 0.15 ? Math.floor(r() * data.length) : data.length;
  return withPrefix(bytes, data.subarray(0, truncateData));
}

function byteMutation(base: Uint8Array, r: () => number): Uint8Array {
  const b = base.slice();
  const n = headerSpan(b);
  const pick = Math.floor(r() * 6);
  const inHeader = (): number => 8 + Math.floor(r() * Math.max(1, n));
  switch (pick) {
    case 0:
      return b.subarray(0, Math.floor(r() * b.length)); // truncation
    case 1: {
      // bit flips, mostly in the prefix and header where they matter
      const flips = 1 + Math.floor(r() * 4);
      for (let i = 0; i < flips; i++) {
        const at = r() < 0.8 ? Math.min(b.length - 1, Math.floor(r() * (8 + n))) : Math.floor(r() * b.length);
        b[at]! ^= 1 << Math.floor(r() * 8);
      }
      return b;
    }
    case 2: {
      // JSON-significant character substitutions
      const subs = 1 + Math.floor(r() * 3);
      for (let i = 0; i < subs; i++)
        b[Math.min(b.length - 1, inHeader())] = JSON_CHARS[Math.floor(r() * JSON_CHARS.length)]!;
      return b;
    }
    case 3: {
      // length prefix off by a little or a lot
      const dv = new DataView(b.buffer);
      const choices = [
        BigInt(n + Math.floor(r() * 17) - 8),
        BigInt(Math.floor(r() * 2 ** 32)),
        2n ** 64n - BigInt(1 + Math.floor(r() * 100)),
        0n,
      ];
      dv.setBigUint64(0, BigInt.asUintN(64, choices[Math.floor(r() * choices.length)]!), true);
      return b;
    }
    case 4: {
      // insert or delete header bytes, keeping or fixing the prefix
      const at = inHeader();
      const header = b.subarray(8, 8 + n);
      const rel = at - 8;
      const edited =
        r() < 0.5
          ? Buffer.concat([
              header.subarray(0, rel),
              Buffer.from([JSON_CHARS[Math.floor(r() * JSON_CHARS.length)]!]),
              header.subarray(rel),
            ])
          : Buffer.concat([header.subarray(0, rel), header.subarray(rel + 1)]);
      return withPrefix(edited, b.subarray(8 + n), r() < 0.7);
    }
    default: {
      // invalid UTF-8 sequences in the header
      b[Math.min(b.length - 1, inHeader())] = [0xff, 0xc0, 0xed, 0x80, 0xf5][Math.floor(r() * 5)]!;
      return b;
    }
  }
}

/** Reads everything a successful open promises and checks it against the raw bytes. */
function checkConsistent(file: SafetensorsFile, bytes: Uint8Array): void {
  const header = file.header;
  let covered = 0;
  for (const name of file.keys()) {
    const info = file.info(name);
    covered += info.byteLength;
    const raw = file.getBytes(name);
    expect(raw.length).toBe(info.byteLength);
    expect(
      Buffer.compare(Buffer.from(raw), Buffer.from(bytes.subarray(info.byteOffset, info.byteOffset + info.byteLength))),
    ).toBe(0);
    if (info.dtype !== null) {
      const t = file.get(name);
      expect(t.size).toBe(info.shape.reduce((a, b) => a * b, 1));
      expect(t.byteLength).toBe(info.byteLength);
      expect(Buffer.compare(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength), Buffer.from(raw))).toBe(
        0,
      );
    }
  }
  expect(covered).toBe(bytes.length - header.dataStart);
}

function attempt(bytes: Uint8Array, run: () => void, label: string): "ok" | "rejected" {
  try {
    run();
    return "ok";
  } catch (e) {
    if (e instanceof SafetensorsError) return "rejected";
    throw new Error(
      `${label}: ${(e as Error)?.name}: ${(e as Error)?.message} (bytes ${Buffer.from(bytes.subarray(0, 160)).toString("hex")})`,
    );
  }
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "difflens-st-fuzz-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("safetensors fuzz", () => {
  it("4000 mutated files: consistent or SafetensorsError, in memory and (every 16th) on disk", async () => {
    const r = rng(0x5afe7e45);
    const bases = corpus();
    const tally = { ok: 0, rejected: 0 };
    const started = Date.now();
    // The add-on's real mapper when built; otherwise a stand-in that holds the file in one ArrayBuffer.
    const useNative = nativeMmap(path.join(FIXTURES, "all-dtypes.safetensors")) !== null;
    const mapFile = useNative ? undefined : (q: string) => new Uint8Array(fs.readFileSync(q)).slice().buffer;
    for (let i = 0; i < 4000; i++) {
      const base = bases[i % bases.length]!;
      const bytes = r() < 0.4 ? jsonMutation(base, r) : byteMutation(base, r);
      const outcome = attempt(
        bytes,
        () => checkConsistent(loadSafetensorsFromBytes(bytes), bytes),
        `case ${i} (memory)`,
      );
      tally[outcome]++;
      if (i % 16 === 0) {
        const p = path.join(tmp, `f${i}.safetensors`);
        fs.writeFileSync(p, bytes);
        for (const mmap of [false, true]) {
          const onDisk = await openSafetensors(p, mapFile === undefined ? { mmap } : { mmap, mapFile }).then(
            (f) => {
              checkConsistent(f, bytes);
              f.close();
              return "ok" as const;
            },
            (e: unknown) => {
              if (e instanceof SafetensorsError) return "rejected" as const;
              throw new Error(`case ${i} (disk, mmap=${mmap}): ${(e as Error)?.message}`);
            },
          );
          expect(onDisk, `case ${i}: memory and disk disagree`).toBe(outcome);
        }
      }
    }
    if (process.env.FUZZ_VERBOSE) console.log(tally);
    // Both outcomes must occur in quantity, or the mutations are not exercising the reader.
    expect(tally.ok).toBeGreaterThan(200);
    expect(tally.rejected).toBeGreaterThan(2000);
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 20_000);
});
