/**
 * The prompt set and the behaviour scores: JSON Lines files, one object per line. A malformed line is reported as
 * `file:line` with what was expected; ids must be unique.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { ReadoutsError } from "../errors.ts";

export interface Prompt {
  readonly id: string;
  readonly text: string;
}

/** The project's 50 neutral prompts (everyday questions and tasks), used when `prompts` is "builtin". */
export const BUILTIN_PROMPTS_FILE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../data/neutral-prompts.jsonl",
);

/** Reads `prompts` ("builtin" or a JSONL file of {"id": string|number, "text": non-empty string}). */
export function readPrompts(source: string): Prompt[] {
  const file = source === "builtin" ? BUILTIN_PROMPTS_FILE : source;
  const expected = '{"id": <string or number>, "text": <non-empty string>}';
  const prompts = readJsonLines(file, "prompts", expected, (row) => {
    const ok = isId(row.id) && typeof row.text === "string" && row.text !== "" && Object.keys(row).length === 2;
    return ok ? { id: String(row.id), text: row.text as string } : null;
  });
  if (prompts.length < 2)
    throw new ReadoutsError(
      "INPUT_INVALID",
      `${file}: ${prompts.length} prompt(s); expected at least 2 (field prompts)`,
      {
        file,
        field: "prompts",
      },
    );
  return prompts;
}

/** Reads a behaviour score file: prompt id → score (a finite number). */
export function readScores(file: string): Map<string, number> {
  const expected = '{"id": <prompt id>, "score": <finite number>}';
  const rows = readJsonLines(file, "behaviour.scores", expected, (row) =>
    isId(row.id) && typeof row.score === "number" && Number.isFinite(row.score)
      ? { id: String(row.id), score: row.score }
      : null,
  );
  return new Map(rows.map((r) => [r.id, r.score]));
}

function isId(v: unknown): boolean {
  return (typeof v === "string" && v !== "") || (typeof v === "number" && Number.isFinite(v));
}

/** Parses each non-blank line with `read` (null = malformed); ids must be unique. */
function readJsonLines<T extends { id: string }>(
  file: string,
  field: string,
  expected: string,
  read: (row: Record<string, unknown>) => T | null,
): T[] {
  if (!fs.existsSync(file) || !fs.statSync(file).isFile())
    throw new ReadoutsError("INPUT_INVALID", `${file}: no such file (field ${field}); expected a JSONL file`, {
      file,
      field,
    });
  const out: T[] = [];
  const seen = new Set<string>();
  const lines = fs.readFileSync(file, "utf8").split("\n");
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    const where = `${file}:${i + 1}`;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      row = undefined;
    }
    const item =
      row !== null && typeof row === "object" && !Array.isArray(row) ? read(row as Record<string, unknown>) : null;
    if (item === null)
      throw new ReadoutsError(
        "INPUT_INVALID",
        `${where}: expected ${expected}, got ${truncate(line)} (field ${field})`,
        {
          file,
          field,
          line: i + 1,
          expected,
        },
      );
    if (seen.has(item.id))
      throw new ReadoutsError(
        "INPUT_INVALID",
        `${where}: id "${item.id}" appears twice; expected unique ids (field ${field})`,
        {
          file,
          field,
          line: i + 1,
        },
      );
    seen.add(item.id);
    out.push(item);
  });
  return out;
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}
