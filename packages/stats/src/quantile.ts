import { StatsError } from "./errors.ts";
import { oneOf, resolveOptions } from "./options.ts";
import { type Sample, strictSample } from "./samples.ts";

/**
 * Quantile definitions, named as numpy ≥ 1.22 names them. The nine Hyndman–Fan (1996) types are:
 * type 1 "inverted_cdf", 2 "averaged_inverted_cdf", 3 "closest_observation", 4 "interpolated_inverted_cdf",
 * 5 "hazen", 6 "weibull", 7 "linear" (numpy's and R's default), 8 "median_unbiased", 9 "normal_unbiased".
 * numpy's older "lower", "higher", "midpoint", "nearest" are kept too.
 */
export type QuantileMethod =
  | "inverted_cdf"
  | "averaged_inverted_cdf"
  | "closest_observation"
  | "interpolated_inverted_cdf"
  | "hazen"
  | "weibull"
  | "linear"
  | "median_unbiased"
  | "normal_unbiased"
  | "lower"
  | "higher"
  | "midpoint"
  | "nearest";

export const QUANTILE_METHODS: readonly QuantileMethod[] = [
  "inverted_cdf",
  "averaged_inverted_cdf",
  "closest_observation",
  "interpolated_inverted_cdf",
  "hazen",
  "weibull",
  "linear",
  "median_unbiased",
  "normal_unbiased",
  "lower",
  "higher",
  "midpoint",
  "nearest",
];

/** Hyndman–Fan type number (1–9) → numpy method name. */
export const HYNDMAN_FAN_TYPES: Readonly<Record<number, QuantileMethod>> = Object.freeze({
  1: "inverted_cdf",
  2: "averaged_inverted_cdf",
  3: "closest_observation",
  4: "interpolated_inverted_cdf",
  5: "hazen",
  6: "weibull",
  7: "linear",
  8: "median_unbiased",
  9: "normal_unbiased",
});

export interface QuantileOptions {
  /** Quantile definition; "linear" (Hyndman–Fan type 7) as in numpy. */
  readonly method: QuantileMethod;
}
export const DEFAULT_QUANTILE_OPTIONS: QuantileOptions = Object.freeze({ method: "linear" });
export function resolveQuantileOptions(input: unknown): Readonly<QuantileOptions> {
  return resolveOptions("quantile", DEFAULT_QUANTILE_OPTIONS, { method: oneOf(QUANTILE_METHODS) }, input);
}

/** numpy's lerp: symmetric in which end it starts from, so results match numpy bit for bit. */
function lerp(a: number, b: number, t: number): number {
  const d = b - a;
  return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

/** Continuous methods: virtual index n·q + α + q·(1 − α − β) − 1 (0-based), then linear interpolation. */
const PLOTTING_POSITIONS: Partial<Record<QuantileMethod, readonly [number, number]>> = {
  interpolated_inverted_cdf: [0, 1],
  hazen: [0.5, 0.5],
  weibull: [0, 0],
  median_unbiased: [1 / 3, 1 / 3],
  normal_unbiased: [3 / 8, 3 / 8],
};

function atIndex(sorted: Float64Array, i: number): number {
  return sorted[Math.min(Math.max(i, 0), sorted.length - 1)] as number;
}

/** Interpolates at a fractional 0-based index with numpy's clamping (below 0 → first, ≥ n−1 → last). */
function interpolate(sorted: Float64Array, h: number, fixGamma?: (g: number, h: number) => number): number {
  const n = sorted.length;
  if (h >= n - 1) return sorted[n - 1] as number;
  if (h < 0) return sorted[0] as number;
  const lo = Math.floor(h);
  let g = h - lo;
  if (fixGamma) g = fixGamma(g, h);
  return lerp(sorted[lo] as number, sorted[lo + 1] as number, g);
}

function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const diff = v - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

function quantileSorted(sorted: Float64Array, q: number, method: QuantileMethod): number {
  const n = sorted.length;
  const pp = PLOTTING_POSITIONS[method];
  if (pp) return interpolate(sorted, n * q + (pp[0] + q * (1 - pp[0] - pp[1])) - 1);
  switch (method) {
    case "linear":
      return interpolate(sorted, (n - 1) * q);
    case "inverted_cdf": {
      const h = n * q - 1;
      const prev = Math.floor(h);
      return atIndex(sorted, h - prev === 0 ? prev : prev + 1);
    }
    case "closest_observation": {
      const h = n * q - 1.5;
      const prev = Math.floor(h);
      return atIndex(sorted, h - prev === 0 && prev % 2 === 0 ? prev : prev + 1);
    }
    case "averaged_inverted_cdf":
      return interpolate(sorted, n * q - 1, (g) => (g === 0 ? 0.5 : 1));
    case "lower":
      return atIndex(sorted, Math.floor((n - 1) * q));
    case "higher":
      return atIndex(sorted, Math.ceil((n - 1) * q));
    case "nearest":
      return atIndex(sorted, roundHalfEven((n - 1) * q));
    case "midpoint": {
      const h = 0.5 * (Math.floor((n - 1) * q) + Math.ceil((n - 1) * q));
      return interpolate(sorted, h, (_g, idx) => (idx % 1 === 0 ? 0 : 0.5));
    }
    default:
      throw new StatsError("INVALID_ARGUMENT", { where: "quantile", field: "options.method", got: String(method) });
  }
}

function checkProbability(q: number, field: string): void {
  if (typeof q !== "number" || !(q >= 0 && q <= 1)) {
    throw new StatsError("INVALID_ARGUMENT", {
      where: "quantile",
      field,
      expected: "a probability in [0, 1]",
      got: String(q),
    });
  }
}

/** Sorted copy of a sample (ascending), for repeated quantile queries. */
export function sortedCopy(x: Sample): Float64Array {
  return Float64Array.from(x).sort();
}

/** The q-quantile (q in [0, 1]) of x. Default method "linear" = numpy.quantile's default = Hyndman–Fan type 7. */
export function quantile(x: Sample, q: number, options?: Partial<QuantileOptions>): number {
  const { method } = resolveQuantileOptions(options);
  strictSample("quantile", "x", x, 1);
  checkProbability(q, "q");
  return quantileSorted(sortedCopy(x), q, method);
}

/** Several quantiles of x at once (sorts once). */
export function quantiles(x: Sample, qs: readonly number[], options?: Partial<QuantileOptions>): number[] {
  const { method } = resolveQuantileOptions(options);
  strictSample("quantiles", "x", x, 1);
  qs.forEach((q, i) => checkProbability(q, `qs[${i}]`));
  const sorted = sortedCopy(x);
  return qs.map((q) => quantileSorted(sorted, q, method));
}

/** Quantile of data already sorted ascending (no checks beyond the probability); used by resampling code. */
export function quantileOfSorted(sorted: Float64Array, q: number, method: QuantileMethod = "linear"): number {
  checkProbability(q, "q");
  return quantileSorted(sorted, q, method);
}

/** Median (numpy linear definition). */
export function median(x: Sample): number {
  return quantile(x, 0.5);
}
