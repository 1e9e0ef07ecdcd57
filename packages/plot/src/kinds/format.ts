/** `value` with a fixed number of decimals, "−0.00" normalised to "0.00" and a true minus sign avoided (plain ASCII). */
export function formatFixed(value: number, decimals: number): string {
  const text = value.toFixed(decimals);
  return /^-0\.?0*$/.test(text) ? text.slice(1) : text;
}
