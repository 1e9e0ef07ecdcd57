/** Per-layer summaries shared by the follow-ups: mean ± SEM over examples, and the layer choices each one reports. */
import { mean, sem } from "@difflens/stats";

export interface MeanSem {
  readonly mean: number;
  /** sd (ddof 1) / √n; null with fewer than two examples. */
  readonly sem: number | null;
}

/** Mean ± SEM over examples of each layer: values [examples][layers] → [layers]. */
export function perLayerMeanSem(values: readonly (readonly number[])[]): MeanSem[] {
  const layers = values[0]?.length ?? 0;
  return Array.from({ length: layers }, (_, l) => {
    const column = values.map((v) => v[l]!);
    return { mean: mean(column), sem: column.length > 1 ? sem(column) : null };
  });
}

/** Index of the largest value (the first on ties); null when there is none. */
export function argmax(values: readonly number[]): number | null {
  let best: number | null = null;
  values.forEach((v, i) => {
    if (Number.isFinite(v) && (best === null || v > values[best]!)) best = i;
  });
  return best;
}

/** Index of the largest value when it is positive, else null. */
export function positiveArgmax(values: readonly number[]): number | null {
  const best = argmax(values);
  return best !== null && values[best]! > 0 ? best : null;
}

/** The first index whose value reaches half of the largest (null when the largest is not positive). */
export function halfMaxLocus(values: readonly number[]): number | null {
  const peak = positiveArgmax(values);
  if (peak === null) return null;
  return values.findIndex((v) => v >= values[peak]! / 2);
}

/** Per-example differences a − b, layer by layer: [examples][layers]. */
export function pairedDifference(a: readonly (readonly number[])[], b: readonly (readonly number[])[]): number[][] {
  return a.map((row, i) => row.map((v, l) => v - b[i]![l]!));
}
