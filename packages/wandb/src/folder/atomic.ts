import { closeSync, fsyncSync, openSync, renameSync, writeSync } from "node:fs";

/** Write a file so readers see the old or the new content, never a torn one (temp file + rename). */
export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  const temp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const fd = openSync(temp, "w");
  try {
    writeSync(fd, typeof content === "string" ? Buffer.from(content, "utf8") : content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
}
