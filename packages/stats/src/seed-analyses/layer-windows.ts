import { binomialTest } from "../binomial-test.ts";
import { StatsError } from "../errors.ts";
import { ALTERNATIVES, type Alternative, oneOf, resolveOptions } from "../options.ts";
import { type DegenerateReason, type Sample, strictSample } from "../samples.ts";

export interface SignBalanceResult {
  /** Entries above +tolerance, below −tolerance, and within it (treated as ties and dropped). */
  readonly positive: number;
  readonly negative: number;
  readonly ties: number;
  /** positive / (positive + negative); NaN when every value is a tie. */
  readonly fractionPositive: number;
  /** Exact binomial p-value against the 50/50 null; NaN when every value is a tie (nothing to test). */
  readonly pValue: number;
  readonly alternative: Alternative;
  /** "all-zero-differences" when every value lies within the tolerance (e.g. two identical models). */
  readonly degenerate?: DegenerateReason;
  readonly note?: string;
}

/**
 * Seed 001's sign-balance test: across layers (or any units), are positive values more (or less) common than a
 * 50/50 coin would give? E.g. a diff-of-diffs with 10/28 layers positive gives p ≈ 0.19 (two-sided). Values within
 * ±tolerance are ties, dropped and counted; when all are ties the result is degenerate (p NaN), as in `signTest`.
 */
export function signBalanceTest(
  values: Sample,
  options?: { alternative?: Alternative; tolerance?: number },
): SignBalanceResult {
  const { alternative, tolerance } = resolveOptions(
    "signBalanceTest",
    Object.freeze({ alternative: "two-sided" as Alternative, tolerance: 0 }),
    {
      alternative: oneOf(ALTERNATIVES),
      tolerance: (v) => (typeof v === "number" && v >= 0 ? undefined : "a non-negative number"),
    },
    options,
  );
  strictSample("signBalanceTest", "values", values, 1);
  let positive = 0;
  let negative = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (v > tolerance) positive++;
    else if (v < -tolerance) negative++;
  }
  const ties = values.length - positive - negative;
  const n = positive + negative;
  if (n === 0) {
    return {
      positive,
      negative,
      ties,
      fractionPositive: NaN,
      pValue: NaN,
      alternative,
      degenerate: "all-zero-differences",
      note: `all ${values.length} values within ±${tolerance}: no signs to test`,
    };
  }
  return {
    positive,
    negative,
    ties,
    fractionPositive: positive / n,
    pValue: binomialTest(positive, n, 0.5, { alternative }).pValue,
    alternative,
  };
}

export interface LayerWindow {
  /** First and last label (layer index) of the run, inclusive. */
  readonly start: number;
  readonly end: number;
  readonly length: number;
}

/**
 * Maximal runs of consecutive true flags, at least `minLength` long, as inclusive label ranges. Labels default to
 * positions 0..n−1; pass layer numbers when the flags cover a subset. A gap in the labels also breaks a run.
 * Seed 001 reported e.g. villain [8, 10] ∪ [12, 27].
 */
export function contiguousWindows(
  flags: readonly boolean[],
  options?: { minLength?: number; labels?: readonly number[] },
): LayerWindow[] {
  const minLength = options?.minLength ?? 1;
  const labels = options?.labels ?? flags.map((_, i) => i);
  if (labels.length !== flags.length) {
    throw new StatsError("LENGTH_MISMATCH", {
      where: "contiguousWindows",
      field: "options.labels",
      expected: `length ${flags.length}`,
      got: `length ${labels.length}`,
    });
  }
  if (!Number.isInteger(minLength) || minLength < 1)
    throw new StatsError("INVALID_ARGUMENT", {
      where: "contiguousWindows",
      field: "options.minLength",
      expected: "an integer ≥ 1",
      got: String(minLength),
    });
  const windows: LayerWindow[] = [];
  let start = -1;
  const close = (endIndex: number): void => {
    const length = endIndex - start + 1;
    if (length >= minLength) windows.push({ start: labels[start] as number, end: labels[endIndex] as number, length });
    start = -1;
  };
  for (let i = 0; i < flags.length; i++) {
    if (flags[i]) {
      if (start >= 0 && (labels[i] as number) !== (labels[i - 1] as number) + 1) close(i - 1);
      if (start < 0) start = i;
    } else if (start >= 0) close(i - 1);
  }
  if (start >= 0) close(flags.length - 1);
  return windows;
}

/** The longest window (first one on ties), or undefined when no flag is set. */
export function longestWindow(
  flags: readonly boolean[],
  options?: { labels?: readonly number[] },
): LayerWindow | undefined {
  return contiguousWindows(flags, options).reduce<LayerWindow | undefined>(
    (best, w) => (best === undefined || w.length > best.length ? w : best),
    undefined,
  );
}
