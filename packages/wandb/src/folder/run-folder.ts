import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  truncateSync,
} from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "@difflens/common";
import { WandbError } from "../errors.ts";
import { parseWandbJson, stringifyWandbJson } from "../wandb-json.ts";
import { type ExitRecord, FILES, RUN_FOLDER_FORMAT, RUN_FOLDER_VERSION, type RunManifest } from "./layout.ts";

/** Create a fresh run folder with its identity, config, metadata and an empty history. */
export function createRunFolder(
  path: string,
  manifest: RunManifest,
  config: Readonly<Record<string, unknown>>,
  metadata: Readonly<Record<string, unknown>>,
): void {
  mkdirSync(join(path, FILES.filesDir), { recursive: true });
  writeFileAtomic(join(path, FILES.config), `${stringifyWandbJson(config)}\n`);
  writeFileAtomic(join(path, FILES.summary), "{}\n");
  writeFileAtomic(join(path, FILES.metadata), `${JSON.stringify(metadata, null, 2)}\n`);
  writeFileAtomic(join(path, FILES.history), "");
  // run.json last: a folder with run.json is complete enough to sync.
  writeFileAtomic(join(path, FILES.run), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** The folder of run `id` under `dir` (`run-<time>-<id>`), or null when there is none. */
export function findRunFolder(dir: string, id: string): string | null {
  if (!existsSync(dir)) return null;
  const name = readdirSync(dir).find((entry) => entry.startsWith("run-") && entry.endsWith(`-${id}`));
  return name === undefined ? null : join(dir, name);
}

/** Where a reopened run stands: its last recorded step and runtime. */
export interface ReopenedRun {
  readonly manifest: RunManifest;
  /** Last `_step` in the history (−1 when empty). */
  readonly lastStep: number;
  /** `_runtime` of that row (0 when empty), so the resumed run's runtime continues from it. */
  readonly runtimeS: number;
}

/**
 * Reopens a run folder to continue it: checks it, writes the new config, cuts a torn last history line (a crash
 * mid-write; appending after it would merge two rows) and removes the exit record (the run is live again).
 */
export function reopenRunFolder(path: string, config: Readonly<Record<string, unknown>>): ReopenedRun {
  const manifest = readManifest(path);
  const history = readHistoryFrom(path, 0, Number.MAX_SAFE_INTEGER);
  truncateSync(join(path, FILES.history), history.nextByte);
  const last = history.lines.length === 0 ? null : parseHistoryLine(history.lines.at(-1)!, history.lines.length, path);
  writeFileAtomic(join(path, FILES.config), `${stringifyWandbJson(config)}\n`);
  rmSync(join(path, FILES.exit), { force: true });
  const runtime = last?.["_runtime"];
  const lastStep = last === null ? -1 : (last["_step"] as number);
  return { manifest, lastStep, runtimeS: typeof runtime === "number" ? runtime : 0 };
}

/** Read and check run.json; a foreign or damaged folder gets an error that says what it looks like. */
export function readManifest(path: string): RunManifest {
  if (!existsSync(path) || !statSync(path).isDirectory()) {
    throw new WandbError("NOT_A_RUN_FOLDER", "no such folder", {
      file: path,
      fix: "pass the folder printed at the start of the run",
    });
  }
  const manifestPath = join(path, FILES.run);
  if (!existsSync(manifestPath)) {
    throw new WandbError("NOT_A_RUN_FOLDER", `no ${FILES.run}: not a difflens-wandb run folder`, {
      file: path,
      expected: `a folder with ${FILES.run} and ${FILES.history}`,
      got: describeForeignFolder(path),
      ...(looksLikePythonWandb(path)
        ? { fix: "this is a Python wandb run folder: upload it with `wandb sync <folder>`" }
        : {}),
    });
  }
  const manifest = readJson(manifestPath) as Partial<RunManifest>;
  if (manifest.format !== RUN_FOLDER_FORMAT) {
    throw new WandbError("NOT_A_RUN_FOLDER", `${FILES.run} was written by another tool`, {
      file: manifestPath,
      field: "format",
      expected: RUN_FOLDER_FORMAT,
      got: JSON.stringify(manifest.format),
    });
  }
  if (typeof manifest.version !== "number" || manifest.version > RUN_FOLDER_VERSION) {
    throw new WandbError("RUN_FOLDER_CORRUPT", "unsupported run folder version", {
      file: manifestPath,
      field: "version",
      expected: `≤ ${RUN_FOLDER_VERSION}`,
      got: String(manifest.version),
      fix: "upgrade @difflens/wandb",
    });
  }
  for (const field of ["id", "project", "createdAt"] as const) {
    if (typeof manifest[field] !== "string" || manifest[field].length === 0) {
      throw new WandbError("RUN_FOLDER_CORRUPT", `${FILES.run} lacks ${field}`, {
        file: manifestPath,
        field,
        got: JSON.stringify(manifest[field]),
      });
    }
  }
  if (!existsSync(join(path, FILES.history))) {
    throw new WandbError("RUN_FOLDER_CORRUPT", `${FILES.history} is missing`, { file: join(path, FILES.history) });
  }
  return manifest as RunManifest;
}

/** Parse a JSON file of the folder, reporting which file is damaged. */
export function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new WandbError("RUN_FOLDER_CORRUPT", `cannot read ${file}: ${(error as Error).message}`, { file });
  }
  try {
    return parseWandbJson(text.trim());
  } catch (error) {
    throw new WandbError("RUN_FOLDER_CORRUPT", `invalid JSON: ${(error as Error).message}`, { file });
  }
}

export function readExitRecord(path: string): ExitRecord | null {
  const file = join(path, FILES.exit);
  if (!existsSync(file)) return null;
  const record = readJson(file) as Partial<ExitRecord>;
  if (typeof record.exitCode !== "number") {
    throw new WandbError("RUN_FOLDER_CORRUPT", "exit record without an integer exitCode", {
      file,
      field: "exitCode",
      got: String(record.exitCode),
    });
  }
  return record as ExitRecord;
}

/** Complete history lines read from a byte position; a torn last line (a crash mid-write) is left unread. */
export interface HistoryChunk {
  readonly lines: string[];
  /** Byte position after the last complete line. */
  readonly nextByte: number;
}

/** Read complete lines of history.jsonl from `fromByte`, at most `maxBytes` of them (at least one line). */
export function readHistoryFrom(path: string, fromByte: number, maxBytes = 64 * 1024 * 1024): HistoryChunk {
  const fd = openSync(join(path, FILES.history), "r");
  try {
    const size = fstatSync(fd).size;
    const length = Math.max(0, size - fromByte);
    if (length === 0) return { lines: [], nextByte: fromByte };
    const buffer = Buffer.alloc(length);
    let read = 0;
    while (read < length) {
      const n = readSync(fd, buffer, read, length - read, fromByte + read);
      if (n === 0) break;
      read += n;
    }
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const end = buffer.indexOf(0x0a, start);
      if (end < 0 || end >= read) break;
      if (lines.length > 0 && end + 1 > maxBytes) break;
      lines.push(buffer.subarray(start, end).toString("utf8"));
      start = end + 1;
    }
    return { lines, nextByte: fromByte + start };
  } finally {
    closeSync(fd);
  }
}

/** Check one history line; the line number makes the error actionable. */
export function parseHistoryLine(line: string, lineNumber: number, path: string): Record<string, unknown> {
  let row: unknown;
  try {
    row = parseWandbJson(line);
  } catch (error) {
    throw new WandbError(
      "RUN_FOLDER_CORRUPT",
      `history line ${lineNumber} is not valid JSON: ${(error as Error).message}`,
      {
        file: join(path, FILES.history),
        fix: "remove or repair that line; lines after it are otherwise lost to sync",
      },
    );
  }
  if (
    typeof row !== "object" ||
    row === null ||
    Array.isArray(row) ||
    typeof (row as Record<string, unknown>)["_step"] !== "number"
  ) {
    throw new WandbError("RUN_FOLDER_CORRUPT", `history line ${lineNumber} is not a W&B history row`, {
      file: join(path, FILES.history),
      expected: 'an object with a numeric "_step"',
      got: line.slice(0, 80),
    });
  }
  return row as Record<string, unknown>;
}

/** Files waiting in files/ (names relative to it, '/'-separated); temp files and dotfiles are skipped. */
export function listRunFiles(path: string): { name: string; size: number; mtimeMs: number }[] {
  const root = join(path, FILES.filesDir);
  if (!existsSync(root)) return [];
  const out: { name: string; size: number; mtimeMs: number }[] = [];
  const walk = (dir: string, prefix: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith(".") || entry.name.includes(".tmp-")) continue;
      const full = join(dir, entry.name);
      const name = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
      if (entry.isDirectory()) walk(full, name);
      else if (entry.isFile()) {
        const st = statSync(full);
        out.push({ name, size: st.size, mtimeMs: st.mtimeMs });
      }
    }
  };
  walk(root, "");
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function looksLikePythonWandb(path: string): boolean {
  return (
    readdirSync(path).some((name) => name.endsWith(".wandb")) || existsSync(join(path, "files", "wandb-metadata.json"))
  );
}

function describeForeignFolder(path: string): string {
  const names = readdirSync(path).slice(0, 8);
  return names.length === 0 ? "an empty folder" : `a folder holding ${names.join(", ")}`;
}
