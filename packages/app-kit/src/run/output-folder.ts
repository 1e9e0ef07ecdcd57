/**
 * No overwrite: a command that writes a folder refuses an existing non-empty one unless forced, and even then
 * writes a temp folder beside it and swaps it in at the end, so a crash or an error leaves the old folder whole.
 * Superseded outputs that cost compute are moved aside (`retireFolder`), never deleted.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { type FlagSpec, type PendingFolder, startFolderAtomic, writeFolderAtomic } from "@difflens/common";
import { AppKitError } from "../errors.ts";

/** `--force`: replace an existing output folder (written beside it, swapped in at the end). */
export const FORCE_FLAG: FlagSpec = {
  name: "force",
  kind: "boolean",
  help: "replace an existing output folder (the new one is written beside it and swapped in when complete)",
};

export interface OutputFolderOptions {
  /** Replace a non-empty destination. */
  readonly force?: boolean;
  /** What writes it, for the refusal: "compare", "train --out". */
  readonly what?: string;
  /** The other ways out, said after "pass --force to replace it". */
  readonly alternatives?: string;
}

/** True when `dir` exists and holds anything. */
export function isNonEmptyFolder(dir: string): boolean {
  return fs.existsSync(dir) && (!fs.statSync(dir).isDirectory() || fs.readdirSync(dir).length > 0);
}

/** Throws OUTPUT_EXISTS for a non-empty `dir` unless `force`: call it before any compute. */
export function refuseExistingOutput(dir: string, options: OutputFolderOptions = {}): void {
  if (options.force || !isNonEmptyFolder(dir)) return;
  const who = options.what ? `${options.what}: ` : "";
  const more = options.alternatives ? `, ${options.alternatives}` : ", or choose another folder";
  throw new AppKitError("OUTPUT_EXISTS", `${who}${dir} already exists and is not empty; nothing was written`, {
    file: dir,
    fix: `pass --force to replace it (written beside it, swapped in when complete)${more}`,
  });
}

/**
 * Starts writing `target`: refused (with this app's wording) when it is not empty, unless `force`; then common's
 * `startFolderAtomic` writes a temp folder beside it and swaps it in on `commit()`. Until then `target` is untouched.
 */
export function startOutputFolder(target: string, options: OutputFolderOptions = {}): PendingFolder {
  refuseExistingOutput(path.resolve(target), options);
  return startFolderAtomic(target, { force: true });
}

/** Writes `target` through `write(tempDir)` and swaps it in once `write` resolves (see `startOutputFolder`). */
export async function writeOutputFolder<T>(
  target: string,
  write: (tempDir: string) => Promise<T> | T,
  options: OutputFolderOptions = {},
): Promise<T> {
  refuseExistingOutput(path.resolve(target), options);
  return writeFolderAtomic(target, write, { force: true });
}

/** Moves `dir` aside to `<dir>.retired-<UTC time>` (never deleted) and returns the new path; null when absent. */
export function retireFolder(dir: string, now: Date = new Date()): string | null {
  if (!fs.existsSync(dir)) return null;
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  let aside = `${dir}.retired-${stamp}`;
  for (let i = 2; fs.existsSync(aside); i++) aside = `${dir}.retired-${stamp}-${i}`;
  fs.renameSync(dir, aside);
  return aside;
}
