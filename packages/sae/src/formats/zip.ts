import { inflateRawSync } from "node:zlib";
import { SaeError } from "../errors.ts";

/**
 * A minimal zip reader for torch.save archives: central directory (with zip64), stored and deflated
 * entries (deflate through node:zlib; Node 20 has no unzip of its own), CRC-32 verified. Hand-written
 * because torch .pt files are zips and no zip dependency is needed for read-only, in-memory use.
 */
export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  crc32: number;
  localHeaderOffset: number;
}

export class ZipArchive {
  readonly entries: ReadonlyMap<string, ZipEntry>;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly file = "<memory>",
  ) {
    this.entries = readCentralDirectory(bytes, file);
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  /** Uncompressed bytes of one entry (a view for stored entries). */
  read(name: string): Uint8Array {
    const e = this.entries.get(name);
    if (!e)
      throw new SaeError("ZIP_INVALID", `${this.file}: zip has no entry "${name}"`, { file: this.file, field: name });
    const b = this.bytes;
    const bad = (why: string): never => {
      throw new SaeError("ZIP_INVALID", `${this.file}: entry "${name}": ${why}`, { file: this.file, field: name });
    };
    if (e.localHeaderOffset + 30 > b.length) bad("local header beyond the end of the file (truncated?)");
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    if (dv.getUint32(e.localHeaderOffset, true) !== 0x04034b50) bad("bad local header signature");
    const start =
      e.localHeaderOffset +
      30 +
      dv.getUint16(e.localHeaderOffset + 26, true) +
      dv.getUint16(e.localHeaderOffset + 28, true);
    if (start + e.compressedSize > b.length)
      bad(
        `data runs past the end of the file (needs ${start + e.compressedSize} bytes, file has ${b.length}; truncated?)`,
      );
    const raw = b.subarray(start, start + e.compressedSize);
    let out: Uint8Array;
    if (e.method === 0) out = raw;
    else if (e.method === 8) {
      try {
        out = inflateRawSync(raw);
      } catch (err) {
        return bad(`deflate data corrupt (${(err as Error).message})`);
      }
    } else return bad(`unsupported compression method ${e.method} (only stored and deflate)`);
    if (out.length !== e.size) bad(`size ${out.length} differs from the directory's ${e.size}`);
    if (crc32(out) !== e.crc32) bad("CRC-32 mismatch (corrupt data)");
    return out;
  }
}

function readCentralDirectory(b: Uint8Array, file: string): Map<string, ZipEntry> {
  const bad = (why: string): never => {
    throw new SaeError("ZIP_INVALID", `${file}: not a readable zip: ${why}`, { file });
  };
  if (b.length < 22) bad(`${b.length} bytes is too short (truncated?)`);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let eocd = -1;
  for (let i = b.length - 22; i >= Math.max(0, b.length - 22 - 65535); i--) {
    if (dv.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) bad("no end-of-central-directory record (truncated?)");
  let count = dv.getUint16(eocd + 10, true);
  let cdSize = dv.getUint32(eocd + 12, true);
  let cdOffset = dv.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || dv.getUint32(loc, true) !== 0x07064b50) bad("zip64 locator missing");
    const z64 = Number(dv.getBigUint64(loc + 8, true));
    if (z64 + 56 > b.length || dv.getUint32(z64, true) !== 0x06064b50) bad("zip64 end record missing");
    count = Number(dv.getBigUint64(z64 + 32, true));
    cdSize = Number(dv.getBigUint64(z64 + 40, true));
    cdOffset = Number(dv.getBigUint64(z64 + 48, true));
  }
  if (cdOffset + cdSize > b.length) bad("central directory beyond the end of the file (truncated?)");
  const entries = new Map<string, ZipEntry>();
  let p = cdOffset;
  const dec = new TextDecoder("utf-8", { fatal: false });
  for (let i = 0; i < count; i++) {
    if (p + 46 > b.length || dv.getUint32(p, true) !== 0x02014b50) bad(`central directory entry ${i} corrupt`);
    const method = dv.getUint16(p + 10, true);
    const crc = dv.getUint32(p + 16, true);
    let compressedSize = dv.getUint32(p + 20, true);
    let size = dv.getUint32(p + 24, true);
    const nameLen = dv.getUint16(p + 28, true),
      extraLen = dv.getUint16(p + 30, true),
      commentLen = dv.getUint16(p + 32, true);
    let localHeaderOffset = dv.getUint32(p + 42, true);
    if (p + 46 + nameLen + extraLen > b.length) bad(`central directory entry ${i} runs past the end`);
    const name = dec.decode(b.subarray(p + 46, p + 46 + nameLen));
    // zip64 extended information: the 0xffffffff fields, in order.
    let q = p + 46 + nameLen;
    const end = q + extraLen;
    while (q + 4 <= end) {
      const id = dv.getUint16(q, true),
        len = dv.getUint16(q + 2, true);
      if (id === 0x0001) {
        let r = q + 4;
        const take = (): number => {
          if (r + 8 > q + 4 + len) bad(`zip64 extra field of "${name}" too short`);
          const v = Number(dv.getBigUint64(r, true));
          r += 8;
          return v;
        };
        if (size === 0xffffffff) size = take();
        if (compressedSize === 0xffffffff) compressedSize = take();
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = take();
      }
      q += 4 + len;
    }
    entries.set(name, { name, method, compressedSize, size, crc32: crc, localHeaderOffset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

let crcTable: Uint32Array | null = null;
export function crc32(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
