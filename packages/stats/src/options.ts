import { describeValue, StatsError } from "./errors.ts";

/** Which tail(s) a test looks at; "less"/"greater" say how the first sample relates to the second (or to 0). */
export type Alternative = "two-sided" | "less" | "greater";
/**
 * What to do with NaN in the data. "raise" (the default here, unlike scipy's "propagate") throws NAN_IN_DATA;
 * "omit" drops NaN entries (paired tests drop the whole pair); "propagate" returns a result whose numbers are NaN
 * and whose `degenerate` field is "nan-input".
 */
export type NanPolicy = "raise" | "omit" | "propagate";

/** Validates one option value: returns undefined when valid, else what was expected (in words). */
export type OptionCheck = (value: unknown) => string | undefined;

export const ALTERNATIVES: readonly Alternative[] = ["two-sided", "less", "greater"];
export const NAN_POLICIES: readonly NanPolicy[] = ["raise", "omit", "propagate"];

export function oneOf(values: readonly unknown[]): OptionCheck {
  return (v) => (values.includes(v) ? undefined : `one of ${values.map((x) => JSON.stringify(x)).join(", ")}`);
}
export const isBoolean: OptionCheck = (v) => (typeof v === "boolean" ? undefined : "a boolean");
export const isFunction: OptionCheck = (v) => (typeof v === "function" ? undefined : "a function");
export function integerAtLeast(min: number): OptionCheck {
  return (v) => (typeof v === "number" && Number.isSafeInteger(v) && v >= min ? undefined : `an integer ≥ ${min}`);
}
export function numberOpen(lo: number, hi: number): OptionCheck {
  return (v) => (typeof v === "number" && v > lo && v < hi ? undefined : `a number in (${lo}, ${hi})`);
}
/** A seed: a non-negative safe integer or a bigint (64 bits are used). */
export const isSeed: OptionCheck = (v) =>
  (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) || (typeof v === "bigint" && v >= 0n)
    ? undefined
    : "a non-negative integer or bigint seed";
export function optional(check: OptionCheck): OptionCheck {
  return (v) => (v === undefined ? undefined : check(v));
}

/** Levenshtein distance, for "did you mean" suggestions. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const sub = (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      cur.push(Math.min(sub, (prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

export function nearestKey(key: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(key.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

/**
 * Merges `input` over frozen `defaults` after checking every key: unknown keys are rejected with the nearest valid
 * key suggested; each value goes through its check. Returns a new frozen object; the caller's object is untouched.
 */
export function resolveOptions<T extends object>(
  where: string,
  defaults: Readonly<T>,
  checks: { readonly [K in keyof NoInfer<T>]-?: OptionCheck },
  input: unknown,
): Readonly<T> {
  if (input === undefined || input === null) return defaults;
  if (typeof input !== "object" || Array.isArray(input)) {
    throw new StatsError("INVALID_ARGUMENT", {
      where,
      field: "options",
      expected: "an options object",
      got: describeValue(input),
    });
  }
  const known = Object.keys(checks);
  const out: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(input)) {
    if (!known.includes(key)) {
      const near = nearestKey(key, known);
      throw new StatsError(
        "UNKNOWN_OPTION",
        {
          where,
          field: `options.${key}`,
          expected: `one of ${known.join(", ")}`,
          got: JSON.stringify(key),
          ...(near ? { fix: `did you mean "${near}"?` } : {}),
        },
        "unknown option",
      );
    }
    if (value === undefined) continue;
    const problem = (checks as Record<string, OptionCheck>)[key]?.(value);
    if (problem !== undefined) {
      throw new StatsError(
        "INVALID_ARGUMENT",
        { where, field: `options.${key}`, expected: problem, got: describeValue(value) },
        "invalid option",
      );
    }
    out[key] = value;
  }
  return Object.freeze(out) as Readonly<T>;
}
