import { nearest, unknownKeys } from "@difflens/common";
import { describeValue, PlotError } from "./errors.ts";

/** What to do with NaN / ±Infinity in the data: throw, or leave the point out and count it in the figure's note. */
export type NonFinitePolicy = "error" | "drop";

/** Narrow `value` to a plain object or throw with the path it was found at. */
export function expectObject(value: unknown, path: string): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new PlotError("PLOT_INVALID_VALUE", "must be an object", {
      field: path,
      expected: "an object",
      got: describeValue(value),
    });
  }
  return value as Record<string, unknown>;
}

/** Reject keys outside `allowed`, suggesting the nearest valid one. */
export function rejectUnknownKeys(obj: Record<string, unknown>, allowed: readonly string[], path: string): void {
  const [first] = unknownKeys(obj, allowed);
  if (first === undefined) return;
  throw new PlotError("PLOT_UNKNOWN_FIELD", `unknown field "${first.key}"`, {
    field: join(path, first.key),
    expected: `one of ${allowed.join(", ")}`,
    got: JSON.stringify(first.key),
    fix: first.suggestion ? `Did you mean "${first.suggestion}"?` : "Remove it.",
  });
}

export function join(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

function invalid(path: string, expected: string, got: unknown): PlotError {
  return new PlotError("PLOT_INVALID_VALUE", `must be ${expected}`, { field: path, expected, got: describeValue(got) });
}

export function optionalString(obj: Record<string, unknown>, key: string, path: string): string | undefined {
  const value = obj[key];
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw invalid(join(path, key), "a string", value);
  return value;
}

export function requiredString(obj: Record<string, unknown>, key: string, path: string): string {
  const value = optionalString(obj, key, path);
  if (value === undefined) throw missing(obj, key, path, "a string");
  return value;
}

export function missing(_obj: Record<string, unknown>, key: string, path: string, expected: string): PlotError {
  return new PlotError("PLOT_MISSING_FIELD", `required field "${key}" is missing`, {
    field: join(path, key),
    expected,
    got: "nothing",
  });
}

export function optionalBoolean(obj: Record<string, unknown>, key: string, path: string): boolean | undefined {
  const value = obj[key];
  if (value === undefined) return undefined;
  if (typeof value !== "boolean") throw invalid(join(path, key), "true or false", value);
  return value;
}

export interface NumberBounds {
  min?: number;
  max?: number;
  integer?: boolean;
  /** Strictly greater than `min`. */
  exclusiveMin?: boolean;
}

/** An optional finite option value (sizes, thresholds); options are never allowed to be non-finite. */
export function optionalNumber(
  obj: Record<string, unknown>,
  key: string,
  path: string,
  bounds: NumberBounds = {},
): number | undefined {
  const value = obj[key];
  if (value === undefined) return undefined;
  return checkNumber(value, join(path, key), bounds);
}

export function checkNumber(value: unknown, path: string, bounds: NumberBounds = {}): number {
  let expected = bounds.integer ? "a finite integer" : "a finite number";
  if (bounds.min !== undefined) expected += bounds.exclusiveMin ? ` > ${bounds.min}` : ` ≥ ${bounds.min}`;
  if (bounds.max !== undefined) expected += ` ≤ ${bounds.max}`;
  if (typeof value !== "number" || !Number.isFinite(value)) throw invalid(path, expected, value);
  if (bounds.integer && !Number.isInteger(value)) throw invalid(path, expected, value);
  if (bounds.min !== undefined && (bounds.exclusiveMin ? value <= bounds.min : value < bounds.min))
    throw invalid(path, expected, value);
  if (bounds.max !== undefined && value > bounds.max) throw invalid(path, expected, value);
  return value;
}

export function optionalEnum<T extends string>(
  obj: Record<string, unknown>,
  key: string,
  path: string,
  values: readonly T[],
): T | undefined {
  const value = obj[key];
  if (value === undefined) return undefined;
  if (typeof value === "string" && (values as readonly string[]).includes(value)) return value as T;
  const suggestion = typeof value === "string" ? nearest(value, values) : undefined;
  throw new PlotError("PLOT_INVALID_VALUE", `must be one of ${values.map((v) => JSON.stringify(v)).join(", ")}`, {
    field: join(path, key),
    expected: values.join(" | "),
    got: describeValue(value),
    ...(suggestion ? { fix: `Did you mean "${suggestion}"?` } : {}),
  });
}

/** A list of strings (labels, categories); `nonEmpty` rejects [] with PLOT_EMPTY_DATA. */
export function stringArray(
  value: unknown,
  path: string,
  options: { nonEmpty?: boolean; unique?: boolean } = {},
): string[] {
  if (!Array.isArray(value)) throw invalid(path, "an array of strings", value);
  const out: string[] = [];
  value.forEach((item, i) => {
    if (typeof item !== "string") throw invalid(join(path, i), "a string", item);
    out.push(item);
  });
  if (options.nonEmpty && out.length === 0) {
    throw new PlotError("PLOT_EMPTY_DATA", "is empty", { field: path, expected: "at least one entry", got: "[]" });
  }
  if (options.unique) {
    const seen = new Set<string>();
    out.forEach((item, i) => {
      if (seen.has(item)) throw invalid(join(path, i), "a label not used before in this list", item);
      seen.add(item);
    });
  }
  return out;
}

/**
 * Numbers of a data column. Accepts plain arrays and typed arrays; `null` (JSON's spelling of NaN) reads as NaN so
 * the non-finite policy decides what happens to it. Non-finite values are kept here and judged per point later.
 */
export function numberArray(value: unknown, path: string): number[] {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return Array.from(value as unknown as ArrayLike<number | bigint>, (v) => Number(v));
  }
  if (!Array.isArray(value)) throw invalid(path, "an array of numbers", value);
  return value.map((item, i) => {
    if (item === null) return Number.NaN;
    if (typeof item !== "number") throw invalid(join(path, i), "a number", item);
    return item;
  });
}

export function expectLength(actual: number, expected: number, path: string, what: string): void {
  if (actual !== expected) {
    throw new PlotError("PLOT_LENGTH_MISMATCH", `has ${actual} values but ${what} has ${expected}`, {
      field: path,
      expected: `${expected} values (${what})`,
      got: `${actual}`,
      fix: "Every column of one series must have one value per point.",
    });
  }
}

export function expectNonEmpty(length: number, path: string, what = "at least one value"): void {
  if (length === 0)
    throw new PlotError("PLOT_EMPTY_DATA", "is empty", { field: path, expected: what, got: "no values" });
}

/** Counts non-finite points per field, or throws at the first under the "error" policy. */
export class NonFiniteLedger {
  private readonly counts = new Map<string, number>();
  constructor(readonly policy: NonFinitePolicy) {}

  /** True when every value is finite; otherwise throws ("error") or records one dropped point under `field` ("drop"). */
  accept(values: readonly number[], fields: readonly string[], index: number, countAs: string): boolean {
    for (let k = 0; k < values.length; k++) {
      const v = values[k]!;
      if (Number.isFinite(v)) continue;
      if (this.policy === "error") {
        throw new PlotError("PLOT_NON_FINITE", `holds ${String(v)}`, {
          field: `${fields[k]}[${index}]`,
          expected: "a finite number",
          got: String(v),
          fix: 'Pass nonFinite: "drop" to leave such points out with a count in the figure\'s note.',
        });
      }
      this.record(countAs);
      return false;
    }
    return true;
  }

  /** Records one point left out under `where` for `reason` (default: a non-finite value). */
  record(where: string, reason: DropReason = "non-finite"): void {
    const key = `${reason}\u0000${where}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  dropped(): DroppedCount[] {
    return [...this.counts.entries()].map(([key, count]) => {
      const [reason, where] = key.split("\u0000") as [DropReason, string];
      return { where, reason, count };
    });
  }
}

/** Points left out of a figure because a value was NaN or ±Infinity. */
export interface DroppedCount {
  /** Which series / column the points belonged to. */
  where: string;
  /** Why: a NaN/±Infinity value, or a value outside a histogram's fixed extent. */
  reason: DropReason;
  count: number;
}

export type DropReason = "non-finite" | "outside extent";
