/**
 * Stage 1's output: `generations/<persona>/seed-<runSeed>.jsonl`, one `Generation` per line, appended as each batch
 * finishes and fsync'd, so a crash loses at most the batch in flight. A resumed run reads the file, drops a torn last
 * line (the write a crash cut short) and skips the attempts already there: a trial is never written twice.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ReadoutsError } from "../errors.ts";
import type { Generation } from "./records.ts";

export function generationsFile(runDir: string, persona: string, runSeed: number): string {
  return path.join(runDir, "generations", persona, `seed-${runSeed}.jsonl`);
}

/**
 * The generations of a file in trial order ([] when it does not exist). A last line without its newline is a torn
 * write and is dropped; any other malformed line, or a trial written twice, is an error naming file:line.
 */
export function readGenerations(file: string): Generation[] {
  if (!fs.existsSync(file)) return [];
  const text = fs.readFileSync(file, "utf8");
  const lines = text.split("\n");
  lines.pop(); // "" when the file ends with its newline, else a torn write (even one that parses): dropped
  const out: Generation[] = [];
  const seen = new Set<number>();
  for (const [i, line] of lines.entries()) {
    if (line.trim() === "") continue;
    const g = parseGeneration(line);
    if (g === null)
      throw new ReadoutsError("INPUT_INVALID", `${file}:${i + 1}: not a stage-1 generation record`, {
        file,
        line: i + 1,
        fix: "move the file aside (or pass --force) to generate this persona and seed again",
      });
    if (seen.has(g.trial))
      throw new ReadoutsError("INPUT_INVALID", `${file}:${i + 1}: trial ${g.trial} appears twice`, {
        file,
        line: i + 1,
      });
    seen.add(g.trial);
    out.push(g);
  }
  return out.sort((a, b) => a.trial - b.trial);
}

/** Cuts a torn last line (one without its newline) so the next append starts on a fresh line. */
export function dropTornLine(file: string): void {
  if (!fs.existsSync(file)) return;
  const text = fs.readFileSync(file, "utf8");
  if (text === "" || text.endsWith("\n")) return;
  fs.truncateSync(file, Buffer.byteLength(text.slice(0, text.lastIndexOf("\n") + 1)));
}

/** Appends one batch's records (one line each) and fsyncs them before returning. */
export function appendGenerations(file: string, generations: readonly Generation[]): void {
  if (generations.length === 0) return;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, "a");
  try {
    fs.writeSync(fd, generations.map((g) => `${JSON.stringify(g)}\n`).join(""));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function parseGeneration(line: string): Generation | null {
  let row: unknown;
  try {
    row = JSON.parse(line);
  } catch {
    return null;
  }
  if (row === null || typeof row !== "object") return null;
  const g = row as Partial<Generation>;
  const ok =
    typeof g.persona === "string" &&
    Number.isInteger(g.runSeed) &&
    Number.isInteger(g.trial) &&
    Number.isInteger(g.questionIndex) &&
    typeof g.question === "string" &&
    Number.isInteger(g.trialSeed) &&
    Array.isArray(g.promptIds) &&
    Array.isArray(g.generatedIds) &&
    (g.finishReason === "stop" || g.finishReason === "length") &&
    (g.markerPosition === null || Number.isInteger(g.markerPosition)) &&
    typeof g.settings === "object";
  return ok ? (g as Generation) : null;
}
