import { nearest } from "@difflens/common";
import { SaeError } from "./errors.ts";

/**
 * Start of every `resolveXxx(input)`: input must be a plain object whose keys all exist in `defaults`.
 * Returns the input as a record; the caller validates each field and never mutates the input.
 */
export function checkKeys(component: string, input: unknown, validKeys: readonly string[]): Record<string, unknown> {
  if (input === undefined || input === null) return {};
  if (typeof input !== "object" || Array.isArray(input)) {
    throw new SaeError(
      "CONFIG_INVALID",
      `${component}: config must be an object, got ${Array.isArray(input) ? "array" : typeof input}`,
    );
  }
  const rec = input as Record<string, unknown>;
  for (const key of Object.keys(rec)) {
    if (!validKeys.includes(key)) {
      const near = nearest(key, validKeys);
      throw new SaeError(
        "CONFIG_UNKNOWN_KEY",
        `${component}: unknown key "${key}"${near ? ` — did you mean "${near}"?` : ""} (valid: ${validKeys.join(", ")})`,
        { field: key, suggestion: near },
      );
    }
  }
  return rec;
}

type Check = { int?: boolean; min?: number; max?: number; minExclusive?: number; nullable?: boolean };

/** A number field: the input value if present (validated), else the default. */
export function numberField(
  component: string,
  rec: Record<string, unknown>,
  key: string,
  dflt: number | null,
  check: Check = {},
): number | null {
  const v = rec[key];
  if (v === undefined) return dflt;
  if (v === null && check.nullable) return null;
  const bad = (why: string): never => {
    throw new SaeError("CONFIG_INVALID", `${component}.${key}: ${why}, got ${JSON.stringify(v)}`, {
      field: key,
      got: v,
    });
  };
  if (typeof v !== "number" || !Number.isFinite(v)) bad("expected a finite number");
  const n = v as number;
  if (check.int && !Number.isInteger(n)) bad("expected an integer");
  if (check.min !== undefined && n < check.min) bad(`expected ≥ ${check.min}`);
  if (check.max !== undefined && n > check.max) bad(`expected ≤ ${check.max}`);
  if (check.minExclusive !== undefined && n <= check.minExclusive) bad(`expected > ${check.minExclusive}`);
  return n;
}

export function enumField<T extends string>(
  component: string,
  rec: Record<string, unknown>,
  key: string,
  dflt: T,
  options: readonly T[],
): T {
  const v = rec[key];
  if (v === undefined) return dflt;
  if (typeof v !== "string" || !(options as readonly string[]).includes(v)) {
    throw new SaeError(
      "CONFIG_INVALID",
      `${component}.${key}: expected one of ${options.map((o) => JSON.stringify(o)).join(", ")}, got ${JSON.stringify(v)}`,
      { field: key, got: v },
    );
  }
  return v as T;
}

export function stringField(
  component: string,
  rec: Record<string, unknown>,
  key: string,
  dflt: string | null,
): string | null {
  const v = rec[key];
  if (v === undefined) return dflt;
  if (v === null) return null;
  if (typeof v !== "string")
    throw new SaeError("CONFIG_INVALID", `${component}.${key}: expected a string, got ${JSON.stringify(v)}`, {
      field: key,
      got: v,
    });
  return v;
}
