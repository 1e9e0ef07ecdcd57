/**
 * A config file: JSON read, then resolved by the app's own `resolve`, with relative paths taken from the file's
 * folder (never the current directory). Every error names the file once: a missing file, bad JSON, or whatever
 * `resolve` rejects (its error keeps its class and code, its message gains the file, its facts the `file`).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { type DifflensError, type ErrorFacts, isDifflensError } from "@difflens/common";
import { AppKitError } from "../errors.ts";
import type { ConfigErrorClass } from "./fields.ts";

/** Resolves parsed JSON; `baseDir` is the config file's folder, `file` its absolute path. */
export type ConfigResolver<T> = (json: unknown, baseDir: string, file: string) => T;

export function loadConfigFile<T>(
  file: string,
  resolve: ConfigResolver<T>,
  errorClass: ConfigErrorClass = AppKitError,
): T {
  const absFile = path.resolve(file);
  if (!fs.existsSync(absFile)) {
    throw new errorClass("CONFIG_NOT_FOUND", `config file ${absFile} does not exist`, { file: absFile });
  }
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(absFile, "utf8"));
  } catch (e) {
    throw new errorClass("CONFIG_INVALID", `${absFile}: not valid JSON (${(e as Error).message})`, { file: absFile });
  }
  try {
    return resolve(json, path.dirname(absFile), absFile);
  } catch (e) {
    if (isDifflensError(e) && !e.message.startsWith(absFile)) throw withFile(e, absFile);
    throw e;
  }
}

/** The same error (class, code, facts) with the file in front of its message and in its facts. */
function withFile(error: DifflensError, file: string): Error {
  const SameClass = error.constructor as new (code: string, message: string, facts: ErrorFacts) => Error;
  return new SameClass(error.code, `${file}: ${error.message}`, { ...error.facts, file });
}
