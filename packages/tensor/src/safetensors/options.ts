import { SafetensorsError } from "./errors.ts";

/**
 * Rejects option keys a function does not know (a typo such as `mmapp` would otherwise be ignored silently),
 * naming the nearest valid key. Never modifies the caller's object.
 */
export function checkOptionKeys(options: object | undefined, allowed: readonly string[], where: string, file: string): void {
  if (options === undefined) return;
  if (options === null || typeof options !== "object") {
    throw new SafetensorsError("INVALID_OPTIONS", { file }, `${where}: options must be an object, got ${options === null ? "null" : typeof options}`);
  }
  for (const key of Object.keys(options)) {
    if (allowed.includes(key)) continue;
    const nearest = [...allowed].sort((a, b) => editDistance(key, a) - editDistance(key, b))[0];
    throw new SafetensorsError("INVALID_OPTIONS", { file },
      `${where}: unknown option "${key}"${nearest === undefined ? "" : ` — did you mean "${nearest}"?`} (valid: ${allowed.join(", ")})`);
  }
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}
