/**
 * Atomic file writes: a reader (or a crash) sees the old content or the new, never a torn file. The content goes to a
 * temp file in the same folder (same file system, so the rename is atomic), is fsynced, then renamed over the target.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/** A temp path beside `path`, unique per process and call. */
export function tempPathBeside(path: string): string {
  const unique = `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  return join(dirname(path), `.${basename(path)}.tmp-${unique}`);
}

export interface AtomicWriteOptions {
  /** Create missing parent folders first (default true). */
  readonly mkdir?: boolean;
  /** fsync the data before the rename (default true; tests of throughput may turn it off). */
  readonly fsync?: boolean;
}

/** Writes `content` to `path` atomically. Strings are written as UTF-8. */
export function writeFileAtomic(path: string, content: string | Uint8Array, options: AtomicWriteOptions = {}): void {
  if (options.mkdir !== false) mkdirSync(dirname(path), { recursive: true });
  const temp = tempPathBeside(path);
  const bytes = typeof content === "string" ? Buffer.from(content, "utf8") : content;
  try {
    const fd = openSync(temp, "w");
    try {
      let offset = 0;
      while (offset < bytes.byteLength) offset += writeSync(fd, bytes, offset, bytes.byteLength - offset);
      if (options.fsync !== false) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/** Writes `value` as pretty JSON (two spaces, trailing newline) atomically. */
export function writeJsonAtomic(path: string, value: unknown, options: AtomicWriteOptions = {}): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`, options);
}
