/** Small readers shared by the SAE folder formats. */
import { readFileSync } from "node:fs";
import { SaeError } from "../errors.ts";

/** A JSON object from a config file, or FORMAT_INVALID naming the file. */
export function readJson(file: string): Record<string, unknown> {
  try {
    const v = JSON.parse(readFileSync(file, "utf8"));
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("not an object");
    return v;
  } catch (err) {
    throw new SaeError("FORMAT_INVALID", `${file}: not a JSON object (${(err as Error).message})`, { file });
  }
}

/** a [rows, cols] → [cols, rows], in 64 × 64 tiles (a 3584 × 131072 decoder in seconds, not minutes). */
export function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  const TILE = 64;
  for (let r0 = 0; r0 < rows; r0 += TILE) {
    const r1 = Math.min(rows, r0 + TILE);
    for (let c0 = 0; c0 < cols; c0 += TILE) {
      const c1 = Math.min(cols, c0 + TILE);
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) out[c * rows + r] = a[r * cols + c]!;
    }
  }
  return out;
}
