/**
 * Readers for the fields of a parsed config file: each checks one value and names the field (`sae.k`), what was
 * expected and what came. Unknown keys are rejected with the nearest valid one (common's `rejectUnknownKeys`).
 * An app gets them bound to its own error class, so its config errors are its errors: `configFields(MyAppError)`.
 */
import { type DifflensError, didYouMean, type ErrorFacts, rejectUnknownKeys } from "@difflens/common";
import { AppKitError } from "../errors.ts";

export type ConfigErrorCode = "CONFIG_INVALID" | "CONFIG_UNKNOWN_KEY" | "CONFIG_NOT_FOUND";
/** Any error class with difflens' constructor shape that accepts the config codes. */
export type ConfigErrorClass = new (code: ConfigErrorCode, message: string, facts?: ErrorFacts) => DifflensError;

export interface NumberCheck {
  readonly int?: boolean;
  readonly min?: number;
  readonly max?: number;
  readonly nullable?: boolean;
}

type Rec = Record<string, unknown>;
type Nullable = { readonly nullable: true };

export interface ConfigFields {
  /** Throws the bound error class: for checks the readers do not cover (a required field, conflicting fields). */
  fail(code: ConfigErrorCode, message: string, facts?: ErrorFacts): never;
  /** `input` as a plain object whose keys are all in `valid` ({} when undefined). */
  objectWithKeys(where: string, input: unknown, valid: readonly string[], file?: string): Rec;
  num(where: string, rec: Rec, key: string, dflt: number, check?: NumberCheck): number;
  num(where: string, rec: Rec, key: string, dflt: number | null, check: NumberCheck & Nullable): number | null;
  /** A non-empty string; null only where the default is null. */
  str(where: string, rec: Rec, key: string, dflt: string): string;
  str(where: string, rec: Rec, key: string, dflt: string | null): string | null;
  oneOf<T extends string>(where: string, rec: Rec, key: string, dflt: T, options: readonly T[]): T;
  bool(where: string, rec: Rec, key: string, dflt: boolean): boolean;
  strList(where: string, rec: Rec, key: string, dflt: readonly string[]): string[];
  /** Non-negative integers (e.g. latent indices), or null. */
  numList(where: string, rec: Rec, key: string, dflt: readonly number[] | null): number[] | null;
}

/** The field readers, throwing `errorClass` (default app-kit's own) with code CONFIG_INVALID or CONFIG_UNKNOWN_KEY. */
export function configFields(errorClass: ConfigErrorClass = AppKitError): ConfigFields {
  const fail = (code: ConfigErrorCode, message: string, facts: ErrorFacts = {}): never => {
    throw new errorClass(code, message, facts);
  };
  const invalid = (where: string, key: string, expected: string, got: unknown, hint = ""): never =>
    fail("CONFIG_INVALID", `${where}.${key}: expected ${expected}, got ${JSON.stringify(got)}${hint}`, {
      field: `${where}.${key}`,
      expected,
      got,
    });

  function objectWithKeys(where: string, input: unknown, valid: readonly string[], file?: string): Rec {
    if (input === undefined) return {};
    const fileFact = file ? { file } : {};
    if (input === null || typeof input !== "object" || Array.isArray(input)) {
      const got = Array.isArray(input) ? "an array" : JSON.stringify(input);
      return fail("CONFIG_INVALID", `${where}: expected an object, got ${got}`, { ...fileFact, field: where });
    }
    rejectUnknownKeys(input, valid, where, (message, facts) =>
      fail("CONFIG_UNKNOWN_KEY", message, { ...facts, ...fileFact, field: `${where}.${facts.field}` }),
    );
    return input as Rec;
  }

  function num(where: string, rec: Rec, key: string, dflt: number, check?: NumberCheck): number;
  function num(where: string, rec: Rec, key: string, dflt: number | null, check: NumberCheck & Nullable): number | null;
  function num(where: string, rec: Rec, key: string, dflt: number | null, check: NumberCheck = {}): number | null {
    const v = rec[key];
    if (v === undefined) return dflt;
    if (v === null && check.nullable) return null;
    const { int, min, max, nullable } = check;
    const inRange = (x: number) => (min === undefined || x >= min) && (max === undefined || x <= max);
    if (typeof v === "number" && Number.isFinite(v) && (!int || Number.isInteger(v)) && inRange(v)) return v;
    const bounds = `${min !== undefined ? ` ≥ ${min}` : ""}${max !== undefined ? ` ≤ ${max}` : ""}`;
    return invalid(where, key, `${int ? "an integer" : "a number"}${bounds}${nullable ? " or null" : ""}`, v);
  }

  function str(where: string, rec: Rec, key: string, dflt: string): string;
  function str(where: string, rec: Rec, key: string, dflt: string | null): string | null;
  function str(where: string, rec: Rec, key: string, dflt: string | null): string | null {
    const v = rec[key];
    if (v === undefined) return dflt;
    if (v === null && dflt === null) return null;
    return typeof v === "string" && v !== "" ? v : invalid(where, key, "a non-empty string", v);
  }

  function oneOf<T extends string>(where: string, rec: Rec, key: string, dflt: T, options: readonly T[]): T {
    const v = rec[key];
    if (v === undefined) return dflt;
    if (typeof v === "string" && options.includes(v as T)) return v as T;
    const hint = typeof v === "string" ? didYouMean(v, options) : "";
    return invalid(where, key, `one of ${options.map((o) => JSON.stringify(o)).join(", ")}`, v, hint);
  }

  function bool(where: string, rec: Rec, key: string, dflt: boolean): boolean {
    const v = rec[key];
    if (v === undefined) return dflt;
    return typeof v === "boolean" ? v : invalid(where, key, "true or false", v);
  }

  function strList(where: string, rec: Rec, key: string, dflt: readonly string[]): string[] {
    const v = rec[key];
    if (v === undefined) return [...dflt];
    if (Array.isArray(v) && v.every((s) => typeof s === "string")) return [...v] as string[];
    return invalid(where, key, "a list of strings", v);
  }

  function numList(where: string, rec: Rec, key: string, dflt: readonly number[] | null): number[] | null {
    const v = rec[key];
    if (v === undefined) return dflt === null ? null : [...dflt];
    if (v === null) return null;
    const index = (s: unknown) => typeof s === "number" && Number.isInteger(s) && s >= 0;
    if (Array.isArray(v) && v.every(index)) return [...v] as number[];
    return invalid(where, key, "a list of non-negative integers or null", v);
  }

  return { fail, objectWithKeys, num, str, oneOf, bool, strList, numList };
}

/** Deep-freezes a resolved config (defaults and results are never mutated). */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
