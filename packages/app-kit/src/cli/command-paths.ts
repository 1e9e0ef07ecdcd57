/**
 * Paths given on the command line resolve from where the person typed the command. `pnpm --filter APP …` runs the
 * script in the app's folder, so `process.cwd()` is the wrong base there; pnpm and npm keep the original folder in
 * `INIT_CWD`. (Paths inside a config file resolve from the file's folder: see config/config-file.ts.)
 */
import * as path from "node:path";
import type { FlagSpec, ParsedFlags } from "@difflens/common";

/** A flag spec of an app command; `path: true` marks a file or folder value, resolved from `invocationDir()`. */
export interface AppFlagSpec extends FlagSpec {
  readonly path?: boolean;
}

/** The folder the command was typed in: `INIT_CWD` under pnpm/npm scripts, else the current directory. */
export function invocationDir(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
  const init = env["INIT_CWD"];
  return init !== undefined && init !== "" && path.isAbsolute(init) ? init : cwd;
}

/**
 * `flags` with every value of a `path: true` flag made absolute against `base`. Absolute values are kept, and so
 * are all values when `base` is the current directory, where a relative path already names the same file (messages
 * then show what the person typed).
 */
export function resolvePathFlags(
  flags: ParsedFlags,
  specs: readonly AppFlagSpec[],
  base: string,
  cwd = process.cwd(),
): ParsedFlags {
  if (path.resolve(base) === path.resolve(cwd)) return flags;
  const out: ParsedFlags = { ...flags };
  for (const spec of specs) {
    const value = out[spec.name];
    if (!spec.path || value === undefined) continue;
    if (typeof value === "string") out[spec.name] = path.resolve(base, value);
    else if (Array.isArray(value)) out[spec.name] = value.map((v) => path.resolve(base, v));
  }
  return out;
}
