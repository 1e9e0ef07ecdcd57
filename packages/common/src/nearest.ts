/**
 * "Did you mean …?" for flags, commands, config keys, hook names and field names: one edit distance, one notion of
 * "close enough", used by every package so that a typo is answered the same way everywhere.
 */

/** Levenshtein distance, case-insensitive (names are short: flags, keys, hook names). */
export function editDistance(a: string, b: string): number {
  const left = a.toLowerCase();
  const right = b.toLowerCase();
  const previous = Array.from({ length: right.length + 1 }, (_, j) => j);
  for (let i = 1; i <= left.length; i++) {
    let diagonal = previous[0]!;
    previous[0] = i;
    for (let j = 1; j <= right.length; j++) {
      const above = previous[j]!;
      const cost = left[i - 1] === right[j - 1] ? 0 : 1;
      previous[j] = Math.min(above + 1, previous[j - 1]! + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return previous[right.length]!;
}

/**
 * The candidate closest to `name`, or undefined when none is plausibly what was meant: the distance must be at most
 * max(2, ⌈|name| / 2⌉) and smaller than the name itself (so "x" never suggests "y"). Ties go to the earlier candidate.
 * A candidate that starts with `name` (an unfinished word such as `--resum`) wins over an equally distant one.
 */
export function nearest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  const lower = name.toLowerCase();
  for (const candidate of candidates) {
    const distance = editDistance(name, candidate);
    // A prefix match costs only the missing tail; count it half so it beats an equally distant unrelated word.
    const score = candidate.toLowerCase().startsWith(lower) ? distance - 0.5 : distance;
    if (score < bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(2, Math.ceil(name.length / 2));
  return bestScore <= limit && bestScore < name.length ? best : undefined;
}

/** ` — did you mean "x"?`, or "" when nothing is close. Meant to be appended to a message. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const suggestion = nearest(name, candidates);
  return suggestion === undefined ? "" : ` — did you mean "${suggestion}"?`;
}

export interface UnknownKey {
  readonly key: string;
  readonly suggestion?: string;
}

/** The keys of `input` that are not in `known`, each with its nearest known key. */
export function unknownKeys(input: object, known: Iterable<string>): UnknownKey[] {
  const knownList = [...known];
  const knownSet = new Set(knownList);
  const out: UnknownKey[] = [];
  for (const key of Object.keys(input)) {
    if (knownSet.has(key)) continue;
    const suggestion = nearest(key, knownList);
    out.push(suggestion === undefined ? { key } : { key, suggestion });
  }
  return out;
}

/**
 * Rejects the first unknown key of `input` through `fail` (each package throws its own error class with its own
 * code): `fail(message, facts)` gets e.g. `unknown key "lr" in sae config — did you mean "lrScale"? (known: …)`.
 */
export function rejectUnknownKeys(
  input: object,
  known: Iterable<string>,
  where: string,
  fail: (message: string, facts: { field: string; got: string; expected: string[]; suggestion?: string }) => never,
): void {
  const knownList = [...known];
  const [first] = unknownKeys(input, knownList);
  if (first === undefined) return;
  const hint = first.suggestion === undefined ? "" : ` — did you mean "${first.suggestion}"?`;
  const message = `unknown key "${first.key}" in ${where}${hint} (known: ${knownList.join(", ")})`;
  fail(message, {
    field: first.key,
    got: first.key,
    expected: knownList,
    ...(first.suggestion === undefined ? {} : { suggestion: first.suggestion }),
  });
}
