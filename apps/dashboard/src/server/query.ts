/**
 * Query-string validation: every API parameter is declared, given once, and checked (integers in range, a stage in
 * STAGES, one of a few words). A bad one is a BAD_REQUEST naming the parameter and what was expected.
 */
import { didYouMean } from "@difflens/common";
import { STAGES, type StageName } from "../api/diffing-types.ts";
import { DashboardError } from "../errors.ts";

export type Query = Readonly<Record<string, string>>;

const MAX_VALUE_LENGTH = 4096;

/** The query's parameters; unknown or repeated names and over-long values are refused. */
export function parseQuery(search: string, allowed: readonly string[]): Query {
  const params = new URLSearchParams(search);
  const out: Record<string, string> = {};
  for (const [name, value] of params) {
    if (!allowed.includes(name)) {
      const known = allowed.length > 0 ? ` (known: ${allowed.join(", ")})` : " (this route takes none)";
      throw badParam(name, `unknown query parameter "${clip(name)}"${didYouMean(name, allowed)}${known}`);
    }
    if (Object.hasOwn(out, name)) throw badParam(name, `query parameter "${name}" given more than once`);
    if (value.length > MAX_VALUE_LENGTH)
      throw badParam(name, `query parameter "${name}" is over ${MAX_VALUE_LENGTH} characters`);
    out[name] = value;
  }
  return out;
}

export function requiredParam(query: Query, name: string): string {
  const value = query[name];
  if (value === undefined || value === "") throw badParam(name, `query parameter "${name}" is required`);
  return value;
}

/** A whole number written in plain decimal digits, within [min, max]; `fallback` when absent. */
export function integerParam(
  query: Query,
  name: string,
  range: { min: number; max: number; fallback?: number },
): number {
  const raw = query[name];
  if (raw === undefined || raw === "") {
    if (range.fallback !== undefined) return range.fallback;
    throw badParam(name, `query parameter "${name}" is required (an integer ${range.min}–${range.max})`);
  }
  const value = /^\d{1,15}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < range.min || value > range.max) {
    throw badParam(
      name,
      `query parameter "${name}": expected an integer ${range.min}–${range.max}, got "${clip(raw)}"`,
    );
  }
  return value;
}

export function stageParam(query: Query): StageName {
  const raw = requiredParam(query, "stage");
  if (!(STAGES as readonly string[]).includes(raw)) {
    throw badParam(
      "stage",
      `query parameter "stage": expected one of ${STAGES.join(", ")}, got "${clip(raw)}"${didYouMean(raw, STAGES)}`,
    );
  }
  return raw as StageName;
}

export function oneOfParam<T extends string>(query: Query, name: string, words: readonly T[], fallback: T): T {
  const raw = query[name];
  if (raw === undefined || raw === "") return fallback;
  if (!(words as readonly string[]).includes(raw)) {
    throw badParam(
      name,
      `query parameter "${name}": expected one of ${words.join(", ")}, got "${clip(raw)}"${didYouMean(raw, words)}`,
    );
  }
  return raw as T;
}

function badParam(field: string, message: string): DashboardError {
  return new DashboardError("BAD_REQUEST", message, { field: clip(field) });
}

/** Echoed input, kept short and printable. */
export function clip(text: string, max = 80): string {
  const printable = text.replace(/\p{Cc}/gu, "?");
  return printable.length > max ? `${printable.slice(0, max)}…` : printable;
}
