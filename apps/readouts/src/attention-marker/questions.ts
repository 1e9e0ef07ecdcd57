/**
 * The questions stage 1 asks every persona: a JSON Lines file with one `{"question": "<text>"}` per line, or
 * "builtin" (the app's ~20 neutral everyday questions, data/questions.jsonl). Attempt k asks question k mod Q.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { ReadoutsError } from "../errors.ts";

export const BUILTIN_QUESTIONS_FILE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../data/questions.jsonl",
);

const EXPECTED = '{"question": <non-empty string>}';

/** The questions of `source` ("builtin" or a JSONL file), in file order; a malformed line is named as file:line. */
export function readQuestions(source: string): string[] {
  const file = source === "builtin" ? BUILTIN_QUESTIONS_FILE : source;
  if (!fs.existsSync(file) || !fs.statSync(file).isFile())
    throw new ReadoutsError("INPUT_INVALID", `${file}: no such file (field questions); expected a JSONL file`, {
      file,
      field: "questions",
      expected: EXPECTED,
    });
  const questions: string[] = [];
  for (const [i, line] of fs.readFileSync(file, "utf8").split("\n").entries()) {
    if (line.trim() === "") continue;
    const question = parseQuestion(line);
    if (question === null)
      throw new ReadoutsError("INPUT_INVALID", `${file}:${i + 1}: expected ${EXPECTED}, got ${truncate(line)}`, {
        file,
        field: "questions",
        line: i + 1,
        expected: EXPECTED,
      });
    questions.push(question);
  }
  if (questions.length === 0)
    throw new ReadoutsError("INPUT_INVALID", `${file}: no questions; expected at least one line ${EXPECTED}`, {
      file,
      field: "questions",
    });
  return questions;
}

function parseQuestion(line: string): string | null {
  try {
    const row: unknown = JSON.parse(line);
    if (row === null || typeof row !== "object" || Array.isArray(row) || Object.keys(row).length !== 1) return null;
    const q = (row as { question?: unknown }).question;
    return typeof q === "string" && q.trim() !== "" ? q : null;
  } catch {
    return null;
  }
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}
