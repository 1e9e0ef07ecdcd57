import * as fs from "node:fs";
import { inflateRawSync } from "node:zlib";
import { SaeError } from "../errors.ts";

/**
 * A minimal zip reader for torch.save archives: central directory (with zip64), stored and deflated
 * entries (deflate through node:zlib; Node 20 has no unzip of its own), CRC-32 verified. Hand-written
 * because torch .pt files are zips and no zip dependency is needed for read-only use. The archive is bytes in
 * memory or an open file read piece by piece (`ZipArchive.openFile`): a multi-gigabyte ae.pt is then read entry by
 * entry, each once, never whole (Node cannot read a file over 2 GiB in one call anyway).
 */

/** Random access to the archive's bytes. */
interface ByteSource {
  readonly size: number;
  /** Bytes [offset, offset + length): a view when in memory, a fresh buffer when read from a file. */
  read(offset: number, length: number): Uint8Array;
}

function memorySource(bytes: Uint8Array): ByteSource {
  return { size: bytes.length, read: (offset, length) => bytes.subarray(offset, offset + length) };
}

function fileSource(fd: number, size: number): ByteSource {
  const CHUNK = 1 << 30;
  return {
    size,
    read(offset, length) {
      const out = Buffer.allocUnsafe(length);
      for (let at = 0; at < length; ) {
        const n = fs.readSync(fd, out, at, Math.min(CHUNK, length - at), offset + at);
        if (n === 0) break;
        at += n;
      }
      return out;
    },
  };
}
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
  private readonly src: ByteSource;
  constructor(
    bytes: Uint8Array | ByteSource,
    private readonly file = "<memory>",
  ) {
    this.src = bytes instanceof Uint8Array ? memorySource(bytes) : bytes;
    this.entries = readCentralDirectory(this.src, file);
  }

  /** Reads `file` through a descriptor (closed when `use` returns): only what is asked for is read. */
  static openFile<T>(file: string, use: (zip: ZipArchive) => T): T {
    const fd = fs.openSync(file, "r");
    try {
      return use(new ZipArchive(fileSource(fd, fs.fstatSync(fd).size), file));
    } finally {
      fs.closeSync(fd);
    }
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  /**
   * The first `length` uncompressed bytes of one entry (a file format's header): only those are read when the
   * entry is stored; a deflated entry is inflated whole. Unverified by the CRC, which covers the whole entry.
   */
  readHead(name: string, length: number): Uint8Array {
    const e = this.entries.get(name);
    if (e?.method !== 0) return this.read(name).subarray(0, length);
    const header = this.src.read(e.localHeaderOffset, 30);
    const dv = new DataView(header.buffer, header.byteOffset, header.byteLength);
    if (header.length < 30 || dv.getUint32(0, true) !== 0x04034b50)
      throw new SaeError("ZIP_INVALID", `${this.file}: entry "${name}": bad local header signature`, {
        file: this.file,
        field: name,
      });
    const start = e.localHeaderOffset + 30 + dv.getUint16(26, true) + dv.getUint16(28, true);
    return this.src.read(start, Math.min(length, e.size, Math.max(0, this.src.size - start)));
  }

  /** Uncompressed bytes of one entry (for stored entries, a view in memory or a fresh buffer from a file). */
  read(name: string): Uint8Array {
    const e = this.entries.get(name);
    if (!e)
      throw new SaeError("ZIP_INVALID", `${this.file}: zip has no entry "${name}"`, { file: this.file, field: name });
    const bad = (why: string): never => {
      throw new SaeError("ZIP_INVALID", `${this.file}: entry "${name}": ${why}`, { file: this.file, field: name });
    };
    const size = this.src.size;
    if (e.localHeaderOffset + 30 > size) bad("local header beyond the end of the file (truncated?)");
    const header = this.src.read(e.localHeaderOffset, 30);
    const dv = new DataView(header.buffer, header.byteOffset, header.byteLength);
    if (dv.getUint32(0, true) !== 0x04034b50) bad("bad local header signature");
    const start = e.localHeaderOffset + 30 + dv.getUint16(26, true) + dv.getUint16(28, true);
    if (start + e.compressedSize > size)
      bad(`data runs past the end of the file (needs ${start + e.compressedSize} bytes, file has ${size}; truncated?)`);
    const raw = this.src.read(start, e.compressedSize);
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

function readCentralDirectory(src: ByteSource, file: string): Map<string, ZipEntry> {
  const bad = (why: string): never => {
    throw new SaeError("ZIP_INVALID", `${file}: not a readable zip: ${why}`, { file });
  };
  if (src.size < 22) bad(`${src.size} bytes is too short (truncated?)`);
  // Everything the directory needs lies in the file's tail, or the central directory read below.
  const tailStart = Math.max(0, src.size - 22 - 65535 - 20 - 56);
  let b = src.read(tailStart, src.size - tailStart);
  let base = tailStart; // file offset of b[0]
  let dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
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
    if (z64 + 56 > src.size) bad("zip64 end record missing");
    const rec = src.read(z64, 56);
    const rv = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
    if (rv.getUint32(0, true) !== 0x06064b50) bad("zip64 end record missing");
    count = Number(rv.getBigUint64(32, true));
    cdSize = Number(rv.getBigUint64(40, true));
    cdOffset = Number(rv.getBigUint64(48, true));
  }
  if (cdOffset + cdSize > src.size) bad("central directory beyond the end of the file (truncated?)");
  if (cdOffset < base) {
    b = src.read(cdOffset, cdSize);
    base = cdOffset;
    dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  const entries = new Map<string, ZipEntry>();
  let p = cdOffset - base;
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
