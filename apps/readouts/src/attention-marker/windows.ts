/** Contiguous layer windows where a per-layer flag holds, as the seed writes them: "[8, 10] ∪ [12, 27]". */
import { contiguousWindows } from "@difflens/stats";

/** Maximal runs of consecutive passing layers as inclusive [first, last] pairs; a gap in `layers` breaks a run. */
export function layerWindows(flags: readonly boolean[], layers: readonly number[]): [number, number][] {
  return contiguousWindows(flags, { labels: layers }).map((w) => [w.start, w.end]);
}

/** "[6, 27]", "[8, 10] ∪ [12, 27]", or "∅" when no layer passes. */
export function windowsText(windows: readonly (readonly [number, number])[]): string {
  return windows.length === 0 ? "∅" : windows.map(([a, b]) => `[${a}, ${b}]`).join(" ∪ ");
}
