// Reading loosely-typed run-file JSON without casts everywhere: a missing or mistyped part reads as empty.
export type Json = Record<string, unknown>;

export const obj = (value: unknown): Json =>
  value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Json) : {};

export const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/** Numbers shown to 4 significant digits (tables, not analysis); anything else as text. */
export function num(value: unknown): string | number {
  if (typeof value !== "number") return value === null || value === undefined ? "" : String(value);
  if (!Number.isFinite(value) || Number.isInteger(value)) return value;
  return Number(value.toPrecision(4));
}
