/** ‖a − b‖ / ‖b‖ over whole arrays (the issues' tolerance measure). */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`relErr: lengths ${a.length} vs ${b.length}`);
  let num = 0,
    den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
}

export function expectClose(actual: number, expected: number, opts: { rtol?: number; atol?: number } = {}): void {
  const rtol = opts.rtol ?? 1e-6,
    atol = opts.atol ?? 0;
  if (!(Math.abs(actual - expected) <= atol + rtol * Math.abs(expected))) {
    throw new Error(`expected ${actual} ≈ ${expected} (rtol ${rtol}, atol ${atol})`);
  }
}
