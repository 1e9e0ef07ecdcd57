/**
 * Where a command will write: the folder (or its nearest existing ancestor) must be a writable directory, and its
 * file system must have room for what the command will write. Nothing is created by the check.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { AppKitError } from "../errors.ts";

/** The folder itself when it exists, else its nearest existing ancestor. */
export function nearestExisting(dir: string): string {
  let current = path.resolve(dir);
  while (!fs.existsSync(current)) {
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  return current;
}

/** Throws OUTPUT_NOT_WRITABLE unless `dir` is (or could be created as) a folder this process can write into. */
export function checkWritableFolder(dir: string): void {
  const existing = nearestExisting(dir);
  const what = existing === path.resolve(dir) ? dir : `${dir} (would be created in ${existing})`;
  if (!fs.statSync(existing).isDirectory()) {
    throw new AppKitError("OUTPUT_NOT_WRITABLE", `${what}: ${existing} is a file, not a folder`, { file: existing });
  }
  try {
    fs.accessSync(existing, fs.constants.W_OK);
  } catch {
    throw new AppKitError("OUTPUT_NOT_WRITABLE", `${what}: ${existing} is not writable by this user`, {
      file: existing,
    });
  }
}

/** Free bytes (for this user) of the file system `dir` would be written to. */
export function freeDiskBytes(dir: string): number {
  const stats = fs.statfsSync(nearestExisting(dir));
  return Number(stats.bavail) * Number(stats.bsize);
}

/** Throws DISK_SPACE when the file system of `dir` has less than `bytes` free. */
export function checkFreeDisk(dir: string, bytes: number, what: string): number {
  const free = freeDiskBytes(dir);
  if (free < bytes) {
    const message = `${dir}: ${what} needs ≈ ${formatBytes(bytes)}, the disk has ${formatBytes(free)} free`;
    throw new AppKitError("DISK_SPACE", message, {
      file: dir,
      expected: bytes,
      got: free,
      fix: "free space or choose a folder on another disk",
    });
  }
  return free;
}

/** 512 B, 3.4 kB, 1.6 GB (powers of 1000, as disks are sold). */
export function formatBytes(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}
