/**
 * Outputs that are never overwritten by accident, and whole folders written so that a reader (or a crash) sees the
 * old folder or the new one, never a mix of both.
 *
 * `writeFolderAtomic(dest, write, { force })`:
 *   1. refuses a `dest` that holds something (a file, or a folder with entries) unless `force`;
 *   2. `write(temp)` fills a fresh folder beside `dest` (`.NAME.tmp-…`: same file system, so renames are atomic);
 *   3. swaps it in. With nothing at `dest`: one rename. With an old folder (`force`): rename the old one aside
 *      (`.NAME.old-…`), rename the new one in, then remove the old one.
 * What a crash leaves, at each point:
 *   - while writing: `dest` untouched, plus a partial `.NAME.tmp-…` (delete it);
 *   - between the two renames: no `dest`; the old folder complete at `.NAME.old-…` and the new one complete at
 *     `.NAME.tmp-…` (rename either one to NAME);
 *   - after the second rename: the new `dest`, plus the old folder at `.NAME.old-…` (delete it).
 * A `write` that throws removes the temp folder and leaves `dest` as it was.
 */
import { lstatSync, mkdirSync, readdirSync, realpathSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, join, resolve, sep } from "node:path";
import { tempPathBeside } from "./atomic-write.ts";
import { DifflensError } from "./errors.ts";

export type OutputErrorCode = "OUTPUT_EXISTS" | "OUTPUT_OVERLAPS_INPUT";

/** An output path a command may not write: it holds something already, or it overlaps one of the inputs. */
export class OutputPathError extends DifflensError<OutputErrorCode> {}

export interface OutputOptions {
  /** Replace whatever is at the output path (a folder is still swapped in whole, never mixed). Default false. */
  readonly force?: boolean;
}

const SHOWN_ENTRIES = 5;

/** What is at `path`, in words, or undefined when nothing is (or only an empty folder). */
function describeExisting(path: string): string | undefined {
  let stats: ReturnType<typeof lstatSync>;
  try {
    stats = lstatSync(path);
  } catch {
    return undefined;
  }
  if (stats.isSymbolicLink()) return "a symbolic link";
  if (!stats.isDirectory()) return `a file of ${stats.size} bytes`;
  const entries = readdirSync(path).sort();
  if (entries.length === 0) return undefined;
  const shown = entries.slice(0, SHOWN_ENTRIES).join(", ");
  const more = entries.length > SHOWN_ENTRIES ? `, … (${entries.length} entries)` : "";
  return `a folder holding ${shown}${more}`;
}

/**
 * Throws OUTPUT_EXISTS when `path` holds something (a file, a link or a non-empty folder) and `force` is not set.
 * Call it before expensive work, so that a command fails in a second rather than after the computation.
 */
export function checkOutputPath(path: string, options: OutputOptions = {}): void {
  if (options.force) return;
  const existing = describeExisting(path);
  if (existing === undefined) return;
  const fix = "pass --force to replace it, or choose another path";
  throw new OutputPathError("OUTPUT_EXISTS", `${path} already exists (${existing}); nothing was written — ${fix}`, {
    file: path,
    got: existing,
    expected: "a path that does not exist, or an empty folder",
    fix,
  });
}

/** `path` made absolute with every symbolic link in its existing part resolved (the rest may not exist yet). */
function canonicalPath(path: string): string {
  const absolute = resolve(path);
  try {
    return realpathSync(absolute);
  } catch {
    const parent = dirname(absolute);
    return parent === absolute ? absolute : join(canonicalPath(parent), basename(absolute));
  }
}

function isSameOrInside(inner: string, outer: string): boolean {
  return inner === outer || inner.startsWith(outer.endsWith(sep) ? outer : outer + sep);
}

/**
 * Throws OUTPUT_OVERLAPS_INPUT when the output `dest` is one of `inputs`, lies inside one, or contains one — even
 * with `force`, since replacing `dest` would then destroy the input (think of SRC and DST swapped by mistake).
 */
export function checkOutputOutside(dest: string, inputs: readonly string[]): void {
  const out = canonicalPath(dest);
  for (const input of inputs) {
    const source = canonicalPath(input);
    const relation =
      out === source
        ? "is"
        : isSameOrInside(out, source)
          ? "lies inside"
          : isSameOrInside(source, out)
            ? "contains"
            : undefined;
    if (relation === undefined) continue;
    const fix = "write to a folder outside the input (check the order of the arguments)";
    throw new OutputPathError("OUTPUT_OVERLAPS_INPUT", `the output ${dest} ${relation} the input ${input} — ${fix}`, {
      file: dest,
      got: input,
      expected: "an output path outside every input",
      fix,
    });
  }
}

/** `.NAME.old-…` beside `path`, where a replaced folder waits until the new one is in place. */
function asidePath(path: string): string {
  const unique = `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  return join(dirname(path), `.${basename(path)}.old-${unique}`);
}

/**
 * Writes a whole folder: `write(tempDir)` fills a temp folder beside `dest`, which then replaces `dest` in one piece
 * (see the top of this file). Refuses an occupied `dest` unless `force`. Resolves to what `write` returned.
 */
export async function writeFolderAtomic<T>(
  dest: string,
  write: (tempDir: string) => T | Promise<T>,
  options: OutputOptions = {},
): Promise<T> {
  const pending = startFolderAtomic(dest, options);
  try {
    const result = await write(pending.dir);
    pending.commit();
    return result;
  } catch (error) {
    pending.discard();
    throw error;
  }
}

/** A folder being written beside its destination: `commit()` swaps it in, `discard()` removes it. */
export interface PendingFolder {
  /** The temp folder to write into. */
  readonly dir: string;
  commit(): void;
  discard(): void;
}

/**
 * The two-step form of `writeFolderAtomic`, for long jobs that write their output over many calls: refuses an
 * occupied `dest` unless `force`, makes the temp folder, and swaps it in on `commit()`.
 */
export function startFolderAtomic(dest: string, options: OutputOptions = {}): PendingFolder {
  checkOutputPath(dest, options);
  const target = resolve(dest);
  mkdirSync(dirname(target), { recursive: true });
  const temp = tempPathBeside(target);
  mkdirSync(temp);
  return {
    dir: temp,
    commit: () => swapIn(temp, target, dest, options),
    discard: () => rmSync(temp, { recursive: true, force: true }),
  };
}

function swapIn(temp: string, target: string, dest: string, options: OutputOptions): void {
  if (describeExisting(target) === undefined) {
    // Nothing there, or an empty folder, which a rename replaces atomically.
    renameSync(temp, target);
    return;
  }
  checkOutputPath(dest, options); // something may have appeared while `write` ran
  const aside = asidePath(target);
  renameSync(target, aside);
  try {
    renameSync(temp, target);
  } catch (error) {
    renameSync(aside, target);
    throw error;
  }
  rmSync(aside, { recursive: true, force: true });
}
