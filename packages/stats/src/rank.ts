import type { Sample } from "./samples.ts";

/**
 * Average ranks (1-based; ties share the mean of their positions, scipy.stats.rankdata "average") and the sizes of
 * the tie groups larger than one.
 */
export function averageRanks(x: Sample): { ranks: Float64Array; tieGroupSizes: number[] } {
  const n = x.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (x[a] as number) - (x[b] as number));
  const ranks = new Float64Array(n);
  const tieGroupSizes: number[] = [];
  let i = 0;
  while (i < n) {
    let j = i;
    const v = x[order[i] as number];
    while (j + 1 < n && x[order[j + 1] as number] === v) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k] as number] = rank;
    if (j > i) tieGroupSizes.push(j - i + 1);
    i = j + 1;
  }
  return { ranks, tieGroupSizes };
}
