import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const BLOCK = 512;

/**
 * A folder as an npm package tarball: gzipped ustar, every regular file under `package/`, pax records for long
 * paths. Enough for npm to install; not a general tar writer (no links, no ownership).
 */
export function packageTarball(dir: string): Buffer {
  const blocks: Buffer[] = [];
  for (const relative of regularFiles(dir)) {
    const path = `package/${relative}`;
    const stat = statSync(join(dir, relative));
    const data = readFileSync(join(dir, relative));
    if (Buffer.byteLength(path) > 100) {
      const record = paxRecord("path", path);
      blocks.push(header("PaxHeader", 0o644, record.length, "x"), padded(record));
    }
    blocks.push(header(path.slice(0, 100), stat.mode & 0o777, data.length, "0"), padded(data));
  }
  blocks.push(Buffer.alloc(2 * BLOCK));
  return gzipSync(Buffer.concat(blocks), { level: 1 });
}

/** Paths of regular files under `dir`, relative, "/"-separated, sorted. */
function regularFiles(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  const entries = readdirSync(join(dir, prefix), { withFileTypes: true });
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...regularFiles(dir, relative));
    else if (entry.isFile()) out.push(relative);
  }
  return out;
}

function header(name: string, mode: number, size: number, type: "0" | "x"): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(name, 0, 100, "utf8");
  block.write(octal(mode, 7), 100);
  block.write(octal(0, 7), 108); // uid
  block.write(octal(0, 7), 116); // gid
  block.write(octal(size, 11), 124);
  block.write(octal(0, 11), 136); // mtime: fixed, so the same folder gives the same bytes
  block.write(" ".repeat(8), 148); // checksum field counts as spaces while summing
  block.write(type, 156);
  block.write("ustar\u000000", 257);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${octal(sum, 6)}\u0000 `, 148);
  return block;
}

/** One pax extended-header record, "<length> <key>=<value>\n", where <length> counts the whole record. */
function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  const bodyBytes = Buffer.byteLength(body);
  let length = bodyBytes;
  while (String(length).length + bodyBytes !== length) length = String(length).length + bodyBytes;
  return Buffer.from(`${length}${body}`);
}

function padded(data: Buffer): Buffer {
  const rest = data.length % BLOCK;
  return rest === 0 ? data : Buffer.concat([data, Buffer.alloc(BLOCK - rest)]);
}

function octal(value: number, digits: number): string {
  return value.toString(8).padStart(digits, "0");
}
