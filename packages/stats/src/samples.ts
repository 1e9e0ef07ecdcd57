import { describeValue, StatsError } from "./errors.ts";
import type { NanPolicy } from "./options.ts";

/** Any array-like of numbers: plain arrays and typed arrays alike. */
export type Sample = ArrayLike<number>;

/** Why a result carries no usable statistic; tests return this instead of a misleading p-value. */
export type DegenerateReason = "zero-variance" | "nan-input" | "all-zero-differences" | "constant-statistic";

function checkArrayLike(where: string, field: string, x: unknown): asserts x is Sample {
  if (!(Array.isArray(x) || ArrayBuffer.isView(x)) || typeof (x as { length?: unknown }).length !== "number") {
    throw new StatsError("INVALID_ARGUMENT", { where, field, expected: "an array of numbers", got: describeValue(x) });
  }
}

function checkValue(where: string, field: string, v: unknown, i: number): void {
  if (typeof v !== "number") {
    throw new StatsError("INVALID_ARGUMENT", {
      where,
      field: `${field}[${i}]`,
      expected: "a number",
      got: describeValue(v),
    });
  }
  if (v === Infinity || v === -Infinity) {
    throw new StatsError("INVALID_ARGUMENT", {
      where,
      field: `${field}[${i}]`,
      expected: "a finite number",
      got: String(v),
      fix: "remove or clip infinite values",
    });
  }
}

/**
 * Copies a sample into a Float64Array after applying the NaN policy. Returns null when the policy is "propagate"
 * and NaN is present (the caller then returns its NaN result). Throws EMPTY_SAMPLE / SAMPLE_TOO_SMALL when fewer
 * than `minLength` values remain.
 */
export function cleanSample(
  where: string,
  field: string,
  x: unknown,
  nanPolicy: NanPolicy,
  minLength: number,
): Float64Array | null {
  checkArrayLike(where, field, x);
  const out: number[] = [];
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    checkValue(where, field, v, i);
    if (Number.isNaN(v)) {
      if (nanPolicy === "raise") throw nanError(where, field, i);
      if (nanPolicy === "propagate") return null;
      continue;
    }
    out.push(v as number);
  }
  checkLength(where, field, out.length, minLength);
  return Float64Array.from(out);
}

/** Paired version of cleanSample: lengths must match; "omit" drops a pair when either side is NaN. */
export function cleanPairs(
  where: string,
  x: unknown,
  y: unknown,
  nanPolicy: NanPolicy,
  minLength: number,
): { x: Float64Array; y: Float64Array } | null {
  checkArrayLike(where, "x", x);
  checkArrayLike(where, "y", y);
  if (x.length !== y.length) {
    throw new StatsError(
      "LENGTH_MISMATCH",
      { where, field: "y", expected: `length ${x.length} (same as x)`, got: `length ${y.length}` },
      "paired samples differ in length",
    );
  }
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < x.length; i++) {
    const a = x[i];
    const b = y[i];
    checkValue(where, "x", a, i);
    checkValue(where, "y", b, i);
    if (Number.isNaN(a) || Number.isNaN(b)) {
      if (nanPolicy === "raise") throw nanError(where, Number.isNaN(a) ? "x" : "y", i);
      if (nanPolicy === "propagate") return null;
      continue;
    }
    xs.push(a as number);
    ys.push(b as number);
  }
  checkLength(where, "x", xs.length, minLength);
  return { x: Float64Array.from(xs), y: Float64Array.from(ys) };
}

function nanError(where: string, field: string, i: number): StatsError {
  return new StatsError("NAN_IN_DATA", {
    where,
    field: `${field}[${i}]`,
    expected: "no NaN",
    got: "NaN",
    fix: 'pass { nanPolicy: "omit" } to drop NaN or "propagate" to get a NaN result',
  });
}

function checkLength(where: string, field: string, n: number, minLength: number): void {
  if (n === 0 && minLength > 0) {
    throw new StatsError(
      "EMPTY_SAMPLE",
      { where, field, expected: `at least ${minLength} value(s)`, got: "0 values" },
      "empty sample",
    );
  }
  if (n < minLength) {
    throw new StatsError(
      "SAMPLE_TOO_SMALL",
      { where, field, expected: `at least ${minLength} values`, got: `${n}` },
      "sample too small",
    );
  }
}

/** Strict sample check for functions without a NaN policy (descriptives): finite numbers only, at least minLength. */
export function strictSample(where: string, field: string, x: unknown, minLength: number): Sample {
  checkArrayLike(where, field, x);
  for (let i = 0; i < x.length; i++) {
    checkValue(where, field, x[i], i);
    if (Number.isNaN(x[i])) throw nanError(where, field, i);
  }
  checkLength(where, field, x.length, minLength);
  return x;
}

/** Throws DEGENERATE when a result is degenerate; for callers that prefer an exception to checking the field. */
export function assertNotDegenerate<T extends { degenerate?: DegenerateReason; note?: string }>(
  result: T,
  where = "result",
): T {
  if (result.degenerate !== undefined) {
    throw new StatsError(
      "DEGENERATE",
      { where, field: "degenerate", got: result.degenerate },
      result.note ?? "degenerate input",
    );
  }
  return result;
}
