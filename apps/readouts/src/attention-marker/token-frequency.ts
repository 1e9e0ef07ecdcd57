/**
 * The frequency table C3 matches rarity against (records.ts): how often each token id was generated over every
 * stage-1 generation of the run — all personas, all run seeds, positives and negatives. Prompt tokens are left out:
 * every prompt repeats the same template and system prompts, which would swamp the counts of the answers.
 */
import type { Generation } from "./records.ts";

export function tokenFrequencies(generations: Iterable<Generation>): Map<number, number> {
  const counts = new Map<number, number>();
  for (const g of generations) for (const id of g.generatedIds) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}
