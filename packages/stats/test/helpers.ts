import { readFileSync } from "node:fs";
import { expect } from "vitest";

/** Decodes the fixture's "NaN" / "Infinity" / "-Infinity" strings back to numbers. */
function revive(_key: string, value: unknown): unknown {
  if (value === "NaN") return NaN;
  if (value === "Infinity") return Infinity;
  if (value === "-Infinity") return -Infinity;
  return value;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Fixture = any;

/** scipy-reference.json, written by tools/reference/stats/make_fixtures.py (Debian numpy/scipy 1.10). */
export function loadReference(): Fixture {
  return JSON.parse(readFileSync(new URL("./fixtures/scipy-reference.json", import.meta.url), "utf8"), revive);
}

/** |actual − expected| ≤ atol + rtol·|expected|; equal infinities and NaN-vs-NaN pass. */
export function expectClose(
  actual: number,
  expected: number,
  { rtol = 0, atol = 0 }: { rtol?: number; atol?: number },
  label = "",
): void {
  if (Number.isNaN(expected)) {
    expect(actual, label).toBeNaN();
    return;
  }
  if (!Number.isFinite(expected)) {
    expect(actual, label).toBe(expected);
    return;
  }
  const err = Math.abs(actual - expected);
  const bound = atol + rtol * Math.abs(expected);
  if (!(err <= bound)) {
    throw new Error(`${label}: |${actual} − ${expected}| = ${err} > ${bound}`);
  }
}
