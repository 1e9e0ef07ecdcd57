/** sha256 of a file's bytes, read in chunks (a model's weights need not fit in memory twice). */
import { createHash } from "node:crypto";
import { closeSync, openSync, readSync } from "node:fs";

const CHUNK_BYTES = 8 << 20;

/** sha256 (lowercase hex) of the bytes of `file`. */
export function sha256File(file: string): string {
  const hash = createHash("sha256");
  const buffer = Buffer.alloc(CHUNK_BYTES);
  const fd = openSync(file, "r");
  try {
    for (;;) {
      const read = readSync(fd, buffer, 0, buffer.length, null);
      if (read === 0) break;
      hash.update(buffer.subarray(0, read));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest("hex");
}
