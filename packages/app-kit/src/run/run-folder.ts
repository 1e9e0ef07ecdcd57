/**
 * A run folder holds everything one experiment run writes (results, figures, checkpoints, `run.json`), with paths
 * inside its files relative to it so the folder can move. Result files are written atomically (common's
 * `writeFileAtomic`): a reader, or a crash, sees the old file or the new one, never half of it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "@difflens/common";

/**
 * Makes the run folder (kept as it is when it exists) and returns its absolute path. Nothing here deletes: a command
 * that replaces its output goes through `writeOutputFolder`, which refuses without --force.
 */
export function openRunFolder(dir: string): string {
  const abs = path.resolve(dir);
  fs.mkdirSync(abs, { recursive: true });
  return abs;
}

/** Writes one JSON value per line (JSON Lines), atomically. */
export function writeJsonLines(file: string, rows: Iterable<unknown>): void {
  let text = "";
  for (const row of rows) text += `${JSON.stringify(row)}\n`;
  writeFileAtomic(file, text);
}

/** Absolute paths inside `value` rewritten relative to `root` (strings only; other values kept). */
export function relativePaths<T>(value: T, root: string): T {
  if (typeof value === "string") return (path.isAbsolute(value) ? path.relative(root, value) || "." : value) as T;
  if (Array.isArray(value)) return value.map((v) => relativePaths(v, root)) as T;
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, relativePaths(v, root)])) as T;
  }
  return value;
}
