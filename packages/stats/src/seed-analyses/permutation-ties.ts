/**
 * "As extreme as observed" for permutation counts, with room for rounding: a null value counts when
 * value ≥ observed − 1e-9·|observed| − absolute. Exact ties (e.g. a latent that fires in one prompt has |t| = 1 under
 * every sign flip) then count whatever the summation order, here and in the numpy reference alike.
 */
export const RELATIVE_TIE_TOLERANCE = 1e-9;

/** The smallest null value that still counts as at least `observed` (see RELATIVE_TIE_TOLERANCE). */
export function tieThreshold(observed: number, absolute = 0): number {
  return observed - RELATIVE_TIE_TOLERANCE * Math.abs(observed) - absolute;
}

/** (1 + #{null ≥ observed, up to rounding}) / (1 + N): the Monte Carlo p-value that counts the observation itself. */
export function monteCarloPValue(nullValues: ArrayLike<number>, observed: number, absolute = 0): number {
  const threshold = tieThreshold(observed, absolute);
  let count = 0;
  for (let i = 0; i < nullValues.length; i++) if ((nullValues[i] as number) >= threshold) count++;
  return (1 + count) / (1 + nullValues.length);
}

/** Number of entries of an ascending array that are ≥ threshold (binary search). */
export function countAtLeast(sortedAscending: Float64Array, threshold: number): number {
  let lo = 0;
  let hi = sortedAscending.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sortedAscending[mid] as number) >= threshold) hi = mid;
    else lo = mid + 1;
  }
  return sortedAscending.length - lo;
}
