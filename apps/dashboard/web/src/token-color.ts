// The activation highlight of a token chip: white → amber by value / max. Dark text stays readable on every shade
// (contrast ≥ 7:1 at the strongest), and the value is always in the chip's label too: never colour alone.
const LOW: readonly [number, number, number] = [255, 255, 255];
const HIGH: readonly [number, number, number] = [245, 158, 11];

/** Intensity in [0, 1] of `value` against the context's (or latent's) max; non-positive values are 0. */
export function activationIntensity(value: number, max: number): number {
  if (!(value > 0) || !(max > 0)) return 0;
  return Math.min(1, value / max);
}

/** CSS background for an activation: an opaque rgb() so contrast does not depend on what is behind. */
export function activationBackground(value: number, max: number): string {
  const t = activationIntensity(value, max);
  const channel = (i: number) => Math.round(LOW[i]! + (HIGH[i]! - LOW[i]!) * t);
  return `rgb(${channel(0)}, ${channel(1)}, ${channel(2)})`;
}
