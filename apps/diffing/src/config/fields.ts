import { DiffingError } from "../errors.ts";
import { didYouMean, nearest } from "../nearest.ts";

/** A plain object whose keys are all in `valid` (unknown keys rejected with the nearest valid key). */
export function objectWithKeys(where: string, input: unknown, valid: readonly string[], file?: string): Record<string, unknown> {
  if (input === undefined) return {};
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw new DiffingError("CONFIG_INVALID", `${where}: expected an object, got ${Array.isArray(input) ? "an array" : JSON.stringify(input)}`, { ...(file ? { file } : {}), field: where });
  }
  const rec = input as Record<string, unknown>;
  for (const key of Object.keys(rec)) {
    if (!valid.includes(key)) {
      const suggestion = nearest(key, valid);
      throw new DiffingError("CONFIG_UNKNOWN_KEY", `${where}: unknown key "${key}"${didYouMean(key, valid)} (valid: ${valid.join(", ")})`, {
        ...(file ? { file } : {}), field: `${where}.${key}`, ...(suggestion ? { suggestion } : {}),
      });
    }
  }
  return rec;
}

type NumberCheck = { int?: boolean; min?: number; max?: number; nullable?: boolean };

export function num(where: string, rec: Record<string, unknown>, key: string, dflt: number, check?: NumberCheck): number;
export function num(where: string, rec: Record<string, unknown>, key: string, dflt: number | null, check: NumberCheck & { nullable: true }): number | null;
export function num(where: string, rec: Record<string, unknown>, key: string, dflt: number | null, check: NumberCheck = {}): number | null {
  const v = rec[key];
  if (v === undefined) return dflt;
  if (v === null && check.nullable) return null;
  const ok = typeof v === "number" && Number.isFinite(v) && (!check.int || Number.isInteger(v)) && (check.min === undefined || v >= check.min) && (check.max === undefined || v <= check.max);
  if (!ok) {
    const want = `${check.int ? "an integer" : "a number"}${check.min !== undefined ? ` ≥ ${check.min}` : ""}${check.max !== undefined ? ` ≤ ${check.max}` : ""}${check.nullable ? " or null" : ""}`;
    throw new DiffingError("CONFIG_INVALID", `${where}.${key}: expected ${want}, got ${JSON.stringify(v)}`, { field: `${where}.${key}`, expected: want, got: v });
  }
  return v as number;
}

export function str(where: string, rec: Record<string, unknown>, key: string, dflt: string): string;
export function str(where: string, rec: Record<string, unknown>, key: string, dflt: string | null): string | null;
export function str(where: string, rec: Record<string, unknown>, key: string, dflt: string | null): string | null {
  const v = rec[key];
  if (v === undefined) return dflt;
  if (v === null && dflt === null) return null;
  if (typeof v !== "string" || v === "") throw new DiffingError("CONFIG_INVALID", `${where}.${key}: expected a non-empty string, got ${JSON.stringify(v)}`, { field: `${where}.${key}`, got: v });
  return v;
}

export function oneOf<T extends string>(where: string, rec: Record<string, unknown>, key: string, dflt: T, options: readonly T[]): T {
  const v = rec[key];
  if (v === undefined) return dflt;
  if (typeof v !== "string" || !options.includes(v as T)) {
    throw new DiffingError("CONFIG_INVALID", `${where}.${key}: expected one of ${options.map((o) => JSON.stringify(o)).join(", ")}, got ${JSON.stringify(v)}${typeof v === "string" ? didYouMean(v, options) : ""}`, { field: `${where}.${key}`, expected: options, got: v });
  }
  return v as T;
}

export function bool(where: string, rec: Record<string, unknown>, key: string, dflt: boolean): boolean {
  const v = rec[key];
  if (v === undefined) return dflt;
  if (typeof v !== "boolean") throw new DiffingError("CONFIG_INVALID", `${where}.${key}: expected true or false, got ${JSON.stringify(v)}`, { field: `${where}.${key}`, got: v });
  return v;
}

export function strList(where: string, rec: Record<string, unknown>, key: string, dflt: readonly string[]): string[] {
  const v = rec[key];
  if (v === undefined) return [...dflt];
  if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) {
    throw new DiffingError("CONFIG_INVALID", `${where}.${key}: expected a list of strings, got ${JSON.stringify(v)}`, { field: `${where}.${key}`, got: v });
  }
  return [...v] as string[];
}

export function numList(where: string, rec: Record<string, unknown>, key: string, dflt: readonly number[] | null): number[] | null {
  const v = rec[key];
  if (v === undefined) return dflt === null ? null : [...dflt];
  if (v === null) return null;
  if (!Array.isArray(v) || !v.every((s) => typeof s === "number" && Number.isInteger(s) && s >= 0)) {
    throw new DiffingError("CONFIG_INVALID", `${where}.${key}: expected a list of non-negative integers or null, got ${JSON.stringify(v)}`, { field: `${where}.${key}`, got: v });
  }
  return [...v] as number[];
}

/** Deep-freezes a resolved config (defaults and results are never mutated). */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
