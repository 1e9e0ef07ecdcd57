import * as fs from "node:fs";
import { SaeError } from "../errors.ts";
import { crc32 } from "./zip.ts";

/** One contiguous (row-major) tensor of a state dict to save. */
export interface TorchSaveTensor {
  readonly dtype: "f32" | "i64";
  readonly shape: readonly number[];
  readonly data: Float32Array | BigInt64Array;
}

const STORAGE = { f32: "FloatStorage", i64: "LongStorage" } as const;
const ZIP32_LIMIT = 0xffffffff;

/**
 * Writes a state dict the way `torch.save` does (the zip format, PyTorch ≥ 1.6): `<root>/data.pkl` (a protocol-2
 * pickle of an OrderedDict of `_rebuild_tensor_v2` calls on persistent storages), `<root>/byteorder`,
 * `<root>/data/<i>` (each tensor's raw little-endian bytes, stored) and `<root>/version`. Written entry by entry
 * through one file descriptor, so a multi-gigabyte tensor is never copied; plain zip (no zip64), so the archive must
 * stay under 4 GiB — a 131072 × 3584 float32 BatchTopK SAE (3.76 GB) fits.
 */
export function writeTorchStateDict(
  file: string,
  tensors: ReadonlyArray<readonly [string, TorchSaveTensor]>,
  root = "archive",
): void {
  const fd = fs.openSync(file, "w");
  const central: Buffer[] = [];
  let offset = 0;
  const put = (name: string, bytes: Uint8Array) => {
    const nameBytes = Buffer.from(`${root}/${name}`, "utf8");
    const crc = crc32(bytes);
    if (offset + 30 + nameBytes.length + bytes.length > ZIP32_LIMIT)
      throw new SaeError("FORMAT_INVALID", `${file}: the archive would pass 4 GiB (zip64 is not written)`, { file });
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(bytes.length, 18);
    local.writeUInt32LE(bytes.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE(20, 4);
    entry.writeUInt16LE(20, 6);
    entry.writeUInt32LE(crc, 16);
    entry.writeUInt32LE(bytes.length, 20);
    entry.writeUInt32LE(bytes.length, 24);
    entry.writeUInt16LE(nameBytes.length, 28);
    entry.writeUInt32LE(offset, 42);
    central.push(entry, nameBytes);
    writeAll(fd, local);
    writeAll(fd, nameBytes);
    writeAll(fd, bytes);
    offset += 30 + nameBytes.length + bytes.length;
  };
  try {
    put("data.pkl", statePickle(tensors));
    put("byteorder", Buffer.from("little"));
    tensors.forEach(([, t], i) => {
      put(`data/${i}`, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    });
    put("version", Buffer.from("3\n"));
    const cd = Buffer.concat(central);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(central.length / 2, 8);
    end.writeUInt16LE(central.length / 2, 10);
    end.writeUInt32LE(cd.length, 12);
    end.writeUInt32LE(offset, 16);
    writeAll(fd, cd);
    writeAll(fd, end);
  } finally {
    fs.closeSync(fd);
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  const CHUNK = 1 << 30;
  for (let at = 0; at < bytes.length; ) at += fs.writeSync(fd, bytes, at, Math.min(CHUNK, bytes.length - at));
}

/** The pickle torch.save writes for an OrderedDict of tensors (storage i ↔ data/<i>). */
function statePickle(tensors: ReadonlyArray<readonly [string, TorchSaveTensor]>): Uint8Array {
  const out: number[] = [0x80, 0x02];
  const op = (...bytes: number[]) => out.push(...bytes);
  const ascii = (s: string) => op(...Buffer.from(s, "latin1"));
  const global = (module: string, name: string) => {
    op(0x63); // GLOBAL
    ascii(`${module}\n${name}\n`);
  };
  const str = (s: string) => {
    const b = Buffer.from(s, "utf8");
    op(0x58, b.length & 0xff, (b.length >> 8) & 0xff, (b.length >> 16) & 0xff, b.length >>> 24); // BINUNICODE
    op(...b);
  };
  const int = (n: number) => {
    if (n < 256)
      op(0x4b, n); // BININT1
    else if (n < 2 ** 31)
      op(0x4a, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24); // BININT
    else {
      const bytes: number[] = [];
      for (let v = BigInt(n); v > 0n; v >>= 8n) bytes.push(Number(v & 0xffn));
      if (bytes[bytes.length - 1]! >= 0x80) bytes.push(0); // LONG1 is two's complement
      op(0x8a, bytes.length, ...bytes);
    }
  };
  const tuple = (items: readonly number[]) => {
    if (items.length === 0) return op(0x29); // EMPTY_TUPLE
    op(0x28); // MARK
    for (const v of items) int(v);
    op(0x74); // TUPLE
  };
  const orderedDict = () => {
    global("collections", "OrderedDict");
    op(0x29, 0x52); // EMPTY_TUPLE, REDUCE
  };
  orderedDict();
  op(0x28); // MARK
  tensors.forEach(([name, t], i) => {
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== numel)
      throw new SaeError(
        "SHAPE_MISMATCH",
        `writeTorchStateDict: "${name}" has ${t.data.length} values for [${t.shape}]`,
      );
    const strides = t.shape.map((_, d) => t.shape.slice(d + 1).reduce((a, b) => a * b, 1));
    str(name);
    global("torch._utils", "_rebuild_tensor_v2");
    op(0x28); // MARK (the call's arguments)
    op(0x28); // MARK (the persistent id)
    str("storage");
    global("torch", STORAGE[t.dtype]);
    str(String(i));
    str("cpu");
    int(numel);
    op(0x74, 0x51); // TUPLE, BINPERSID
    int(0);
    tuple(t.shape);
    tuple(strides);
    op(0x89); // NEWFALSE (requires_grad)
    orderedDict(); // backward hooks
    op(0x74, 0x52); // TUPLE, REDUCE
  });
  op(0x75, 0x2e); // SETITEMS, STOP
  return Uint8Array.from(out);
}
