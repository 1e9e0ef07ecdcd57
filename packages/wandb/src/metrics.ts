import { WandbError } from "./errors.ts";
import { describe } from "./wandb-json.ts";

/** A value W&B's history accepts: numbers (non-finite ones too), strings, booleans, null, and nested
 * plain objects/arrays of those. */
export type MetricValue =
  | number
  | string
  | boolean
  | null
  | readonly MetricValue[]
  | { readonly [key: string]: MetricValue };

/** Keys W&B writes itself into every history row; user metrics may not use the underscore prefix. */
export const RESERVED_PREFIX = "_";

/**
 * Check a metrics record before it is written, naming the first bad key. Non-finite numbers pass: they
 * are recorded as NaN / Infinity / -Infinity the way the Python client and wandb-core send them.
 */
export function validateMetrics(metrics: unknown, what = "metrics"): asserts metrics is Record<string, MetricValue> {
  if (typeof metrics !== "object" || metrics === null || Array.isArray(metrics)) {
    throw new WandbError("INVALID_METRIC", `${what} must be a plain object of key → value`, {
      expected: "{ loss: 0.5, ... }",
      got: describe(metrics),
    });
  }
  for (const [key, value] of Object.entries(metrics)) {
    if (key.length === 0 || key.startsWith(RESERVED_PREFIX)) {
      throw new WandbError("INVALID_METRIC", `${what} key ${JSON.stringify(key)} is reserved or empty`, {
        field: key,
        expected: "a non-empty key not starting with '_' (W&B writes _step, _runtime, _timestamp itself)",
        got: JSON.stringify(key),
      });
    }
    checkValue(value, key, what);
  }
}

function checkValue(value: unknown, path: string, what: string): void {
  if (value === null || typeof value === "number" || typeof value === "string" || typeof value === "boolean") return;
  if (Array.isArray(value)) {
    value.forEach((v: unknown, i) => checkValue(v, `${path}[${i}]`, what));
    return;
  }
  if (typeof value === "object" && ArrayBuffer.isView(value)) {
    throw bad(path, what, value, "Array.from(typedArray), or log a summary statistic of it");
  }
  if (typeof value === "object") {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto === Object.prototype || proto === null) {
      for (const [k, v] of Object.entries(value)) checkValue(v, `${path}.${k}`, what);
      return;
    }
  }
  if (typeof value === "bigint") throw bad(path, what, value, "convert with Number(value)");
  throw bad(path, what, value, undefined);
}

function bad(path: string, what: string, value: unknown, fix: string | undefined): WandbError {
  return new WandbError("INVALID_METRIC", `${what} value at ${JSON.stringify(path)} cannot be recorded`, {
    field: path,
    expected: "a number (NaN/±Infinity allowed), string, boolean, null, or a plain object/array of those",
    got: describe(value),
    ...(fix !== undefined ? { fix } : {}),
  });
}
