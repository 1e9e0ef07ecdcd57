/** Numbers as the pages print them: fixed decimals for values near 1, compact exponent for tiny frequencies. */
export function formatNumber(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return String(value);
  if (value !== 0 && Math.abs(value) < 10 ** -digits) return value.toExponential(1);
  return value.toFixed(digits);
}

/** Decimals that tell apart values spread over `range` (cosines of a barely-moved SAE differ in the 5th place). */
export function decimalsForRange(range: number, atLeast = 3): number {
  if (!(range > 0)) return atLeast;
  return Math.min(8, Math.max(atLeast, Math.ceil(-Math.log10(range)) + 2));
}

export function formatPercent(fraction: number): string {
  const percent = fraction * 100;
  return `${percent < 0.1 && percent > 0 ? percent.toExponential(1) : percent.toFixed(percent < 10 ? 2 : 1)} %`;
}

/** Whitespace and control characters made visible in token chips (a newline token would vanish otherwise). */
export function visibleToken(token: string): string {
  return token.replace(/\n/g, "↵").replace(/\t/g, "⇥").replace(/ /g, "·").replace(/\r/g, "␍") || "∅";
}

/** An ISO date as "2026-12-07 14:28 UTC"; anything unparsable as written. */
export function formatDate(iso: string | null): string {
  if (iso === null) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/**
 * A value in about `digits` significant figures, short enough for a heatmap cell: 1e-4-sized effects read
 * "-1.2e-4", not "-0.00"; 0/1 gates read "0"/"1".
 */
export function formatSignificant(value: number, digits = 2): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return "0";
  const magnitude = Math.abs(value);
  if (magnitude < 1e-3 || magnitude >= 1e5) return value.toExponential(digits - 1);
  return String(Number(value.toPrecision(digits)));
}
