import { didYouMean } from "@difflens/common";
import { SafetensorsError } from "./errors.ts";

/**
 * Rejects option keys a function does not know (a typo such as `mmapp` would otherwise be ignored silently),
 * naming the nearest valid key. Never modifies the caller's object.
 */
export function checkOptionKeys(
  options: object | undefined,
  allowed: readonly string[],
  where: string,
  file: string,
): void {
  if (options === undefined) return;
  if (options === null || typeof options !== "object") {
    throw new SafetensorsError(
      "INVALID_OPTIONS",
      `${where}: options must be an object, got ${options === null ? "null" : typeof options}`,
      { file },
    );
  }
  for (const key of Object.keys(options)) {
    if (allowed.includes(key)) continue;
    throw new SafetensorsError(
      "INVALID_OPTIONS",
      `${where}: unknown option "${key}"${didYouMean(key, allowed)} (valid: ${allowed.join(", ")})`,
      { file },
    );
  }
}
