import fs from "node:fs";
import path from "node:path";
import { DiffingError } from "../errors.ts";

/**
 * Reads a JSON config file and resolves it, relative paths against the file's own folder. Every error names the
 * file once (a missing file, bad JSON, or whatever `resolve` rejects).
 */
export function loadConfigFile<T>(file: string, resolve: (json: unknown, baseDir: string, absFile: string) => T): T {
  const absFile = path.resolve(file);
  if (!fs.existsSync(absFile)) throw new DiffingError("CONFIG_NOT_FOUND", `config file ${absFile} does not exist`, { file: absFile });
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(absFile, "utf8"));
  } catch (e) {
    throw new DiffingError("CONFIG_INVALID", `${absFile}: not valid JSON (${(e as Error).message})`, { file: absFile });
  }
  try {
    return resolve(json, path.dirname(absFile), absFile);
  } catch (e) {
    if (e instanceof DiffingError && !e.message.startsWith(absFile)) throw new DiffingError(e.code, `${absFile}: ${e.message}`, { ...e.facts, file: absFile });
    throw e;
  }
}
