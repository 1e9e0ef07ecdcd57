import { PlotError } from "../errors.ts";
import { checkNumber, join } from "../validate.ts";

/** An optional `[lo, hi]` axis range with lo < hi. */
export function resolveDomainOption(
  obj: Record<string, unknown>,
  key: string,
  path: string,
): [number, number] | undefined {
  const value = obj[key];
  if (value === undefined) return undefined;
  const field = join(path, key);
  if (!Array.isArray(value) || value.length !== 2) {
    throw new PlotError("PLOT_INVALID_VALUE", "must be [lo, hi]", { field, expected: "two finite numbers, lo < hi" });
  }
  const lo = checkNumber(value[0], join(field, 0));
  const hi = checkNumber(value[1], join(field, 1));
  if (!(lo < hi))
    throw new PlotError("PLOT_INVALID_VALUE", "must have lo < hi", {
      field,
      expected: "lo < hi",
      got: `[${lo}, ${hi}]`,
    });
  return [lo, hi];
}

/** A "nice" step (1, 2 or 5 × 10^k) giving about `count` intervals over `span`. */
export function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  // Nearest on a log scale (the thresholds are the geometric means √2, √10, √50), as d3's tick steps do.
  const nice = fraction >= Math.sqrt(50) ? 10 : fraction >= Math.sqrt(10) ? 5 : fraction >= Math.sqrt(2) ? 2 : 1;
  return nice * power;
}

/** [lo, hi] widened by `padFraction` of the span on each side, then out to round numbers (about 5 ticks). */
export function paddedNiceDomain(values: readonly number[], padFraction = 0.04): [number, number] {
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (lo === hi) {
    const half = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= half;
    hi += half;
  }
  const pad = (hi - lo) * padFraction;
  lo -= pad;
  hi += pad;
  // Rounding to about a 40th of the span keeps the padding small while landing on readable numbers.
  const step = niceStep(hi - lo, 40);
  return [roundTo(Math.floor(lo / step) * step, step), roundTo(Math.ceil(hi / step) * step, step)];
}

function roundTo(value: number, step: number): number {
  const decimals = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  return Number(value.toFixed(decimals));
}
