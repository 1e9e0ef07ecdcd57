/**
 * How a config names a model: an HF folder, a Hub cache repo folder (`models--ORG--NAME`) or `ORG/NAME[@rev]` found
 * in the Hub cache — optionally with a PEFT LoRA adapter merged in at load: `"PATH"` or `{ "path", "adapter" }`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseRepoId } from "@difflens/common";
import { type ConfigFields, configFields } from "../config/fields.ts";

export interface ModelRef {
  /** HF model folder, `models--ORG--NAME` cache folder, or `ORG/NAME[@rev]` found in the Hub cache. */
  readonly path: string;
  /** A PEFT LoRA folder merged into `path` (W + alpha/r·B·A), or null. */
  readonly adapter: string | null;
}

/**
 * Reads a model field of a config. Relative folders resolve from `baseDir` (the config file's folder); `ORG/NAME`
 * stays a Hub id unless such a folder exists there. `fields` carries the app's error class.
 */
export function resolveModelRef(
  where: string,
  input: unknown,
  baseDir: string,
  fields: ConfigFields = configFields(),
): ModelRef {
  const abs = (p: string) => path.resolve(baseDir, p);
  const modelPath = (p: string) => (parseRepoId(p) !== undefined && !fs.existsSync(abs(p)) ? p : abs(p));
  if (typeof input === "string") return { path: modelPath(input), adapter: null };
  const rec = fields.objectWithKeys(where, input, ["path", "adapter"]);
  const p = fields.str(where, rec, "path", null);
  if (p === null) {
    return fields.fail("CONFIG_INVALID", `${where}.path is required (a model folder)`, { field: `${where}.path` });
  }
  const adapter = fields.str(where, rec, "adapter", null);
  return { path: modelPath(p), adapter: adapter === null ? null : abs(adapter) };
}

/** `PATH` or `PATH + LoRA ADAPTER`, for logs and run records. */
export function describeModelRef(ref: ModelRef): string {
  return ref.adapter === null ? ref.path : `${ref.path} + LoRA ${ref.adapter}`;
}
