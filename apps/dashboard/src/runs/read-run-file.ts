/**
 * The one way the dashboard reads a run folder's files: paths resolve inside the run folder (realpath, so a symlink
 * cannot lead out), and every failure is a `DashboardError` naming the file relative to the run folder — missing →
 * NOT_FOUND, truncated or malformed → RUN_FILE_INVALID with the line and column — so page builders can turn it into an
 * error panel and keep going.
 */
import type { Dirent } from "node:fs";
import { access, readdir, readFile, realpath, stat } from "node:fs/promises";
import * as path from "node:path";
import type { ErrorPanel } from "../api/run-types.ts";
import { DashboardError } from "../errors.ts";
import type { DiscoveredRun } from "./discovered-run.ts";

/**
 * The absolute real path of `rel` inside the run folder, or FORBIDDEN (absolute paths, `..`, NUL bytes, symlinks that
 * leave the folder) / NOT_FOUND (no such file). Directories are refused unless `allowDirectory`.
 */
export async function resolveRunPath(
  run: Pick<DiscoveredRun, "dir">,
  rel: string,
  options: { allowDirectory?: boolean } = {},
): Promise<string> {
  const facts = { file: rel };
  if (rel === "" || rel.includes("\0") || path.isAbsolute(rel) || /^[A-Za-z]:|^[\\/]/.test(rel)) {
    throw new DashboardError("FORBIDDEN", "the path must be relative to the run folder", {
      ...facts,
      expected: "a relative path without '..'",
    });
  }
  if (rel.split(/[\\/]/).includes("..")) {
    throw new DashboardError("FORBIDDEN", "the path leaves the run folder ('..')", facts);
  }
  let real: string;
  try {
    real = await realpath(path.join(run.dir, rel));
  } catch {
    throw new DashboardError("NOT_FOUND", `${rel}: no such file in the run folder`, facts);
  }
  if (!isInside(run.dir, real)) {
    throw new DashboardError("FORBIDDEN", `${rel}: a link that leads outside the run folder`, facts);
  }
  if (!options.allowDirectory && (await stat(real)).isDirectory()) {
    throw new DashboardError("FORBIDDEN", `${rel}: a folder, not a file`, facts);
  }
  return real;
}

/** Whether anything is at `file` (absolute). */
export function pathExists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

/** A folder's entries sorted by name; none when it is missing or unreadable. */
export async function folderEntries(dir: string): Promise<Dirent[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  } catch {
    return [];
  }
}

/** True when `candidate` is `dir` or below it (both absolute and real). */
export function isInside(dir: string, candidate: string): boolean {
  const rel = path.relative(dir, candidate);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

/** A run folder file's text (UTF-8). */
export async function readRunText(run: Pick<DiscoveredRun, "dir">, rel: string): Promise<string> {
  const file = await resolveRunPath(run, rel);
  return readFile(file, "utf8");
}

/** A run folder's JSON file, parsed. Truncated or malformed → RUN_FILE_INVALID with line and column. */
export async function readRunJson<T = unknown>(run: Pick<DiscoveredRun, "dir">, rel: string): Promise<T> {
  return parseRunJson<T>(await readRunText(run, rel), rel);
}

/** Parses JSON text read from `rel`; errors name the file and where JSON.parse stopped. */
export function parseRunJson<T = unknown>(text: string, rel: string, lineOffset = 0): T {
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    const reason = (error as Error).message;
    const at = parsePosition(reason, text);
    const { line, column } = lineColumn(text, at);
    const where = `${rel}:${line + lineOffset}:${column}`;
    // Stopping at the very end of the text is what a file cut short (a crash mid-write) looks like.
    const truncated = /end of (JSON )?input/i.test(reason) || at >= text.trimEnd().length ? " (truncated?)" : "";
    throw new DashboardError(
      "RUN_FILE_INVALID",
      `${where}: not valid JSON${truncated} — ${reason}`,
      { file: rel, line: line + lineOffset, column, expected: "valid JSON" },
      { cause: error },
    );
  }
}

/** Each non-empty line of a JSONL file parsed; a bad line is RUN_FILE_INVALID naming `file:line`. */
export async function readRunJsonLines<T = unknown>(run: Pick<DiscoveredRun, "dir">, rel: string): Promise<T[]> {
  const lines = (await readRunText(run, rel)).split("\n");
  const out: T[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === "") continue;
    out.push(parseRunJson<T>(line, rel, i));
  }
  return out;
}

/** Any error met while reading `file` as the page's error panel (unknown errors keep a generic message). */
export function errorPanel(error: unknown, file: string): ErrorPanel {
  if (error instanceof DashboardError) {
    const facts = error.facts;
    const field = typeof facts.field === "string" ? facts.field : undefined;
    return {
      file: typeof facts.file === "string" ? facts.file : file,
      ...(field !== undefined ? { field } : {}),
      message: error.message,
    };
  }
  return { file, message: `could not read ${file}: ${(error as Error)?.message ?? String(error)}` };
}

/** A field of a run file that is missing or of the wrong shape. */
export function invalidField(file: string, field: string, expected: string, got?: unknown): DashboardError {
  const shown = got === undefined ? "" : `, got ${JSON.stringify(got)?.slice(0, 60)}`;
  return new DashboardError("RUN_FILE_INVALID", `${file}: field ${field} — expected ${expected}${shown}`, {
    file,
    field,
    expected,
  });
}

function parsePosition(reason: string, text: string): number {
  const match = /position (\d+)/.exec(reason);
  return match ? Number(match[1]) : text.length;
}

/** 1-based line and column of character offset `at`. */
function lineColumn(text: string, at: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < at && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: at - lineStart + 1 };
}
