/**
 * The readout positions of one generation (records.ts: STRATA), as absolute indices into promptIds ++ generatedIds.
 *
 * On a positive (t* = markerPosition):
 * - marker = t* + offset — the offset moves the marker's readout only; the controls stay drawn from before t*;
 * - the control candidates are the generated positions before t* other than the marker's readout position (with
 *   offset −1 that one is t* − 1, which would otherwise pair the marker with itself);
 * - c1: uniform over the candidates, with `new Rng(trialSeed).fork("c1")`;
 * - c2: uniform over the candidates in the last quarter (⌈n/4⌉ of the n generated tokens before t*), fork "c2";
 * - c3: the candidate whose input token is rarest in `frequencies` (ties → larger token id, then the later position);
 * - c4: null.
 * On a negative: c4 = its end-of-answer position (its stop token's, else its last); every other stratum null.
 * A stratum with no candidate is null (the caller counts and reports them).
 */
import { Rng } from "@difflens/tensor";
import { ReadoutsError } from "../errors.ts";
import type { Generation, Stratum } from "./records.ts";

export function chooseStrata(
  generation: Generation,
  frequencies: ReadonlyMap<number, number>,
  offset: number,
  markerId: number,
): Record<Stratum, number | null> {
  const promptLength = generation.promptIds.length;
  const length = promptLength + generation.generatedIds.length;
  const tStar = generation.markerPosition;
  const none = { marker: null, c1: null, c2: null, c3: null, c4: null };
  if (tStar === null) return { ...none, c4: generation.generatedIds.length > 0 ? length - 1 : null };
  const idAt = (p: number): number => generation.generatedIds[p - promptLength]!;
  if (tStar < promptLength || tStar >= length || idAt(tStar) !== markerId) {
    throw new ReadoutsError(
      "INPUT_INVALID",
      `${generation.persona} seed ${generation.runSeed} trial ${generation.trial}: markerPosition ${tStar} does not ` +
        `hold the marker id ${markerId}`,
      { field: "markerPosition", expected: `a generated position holding ${markerId}`, got: tStar },
    );
  }
  const readout = tStar + offset;
  const marker = readout >= 0 && readout < length ? readout : null;
  const candidates: number[] = [];
  for (let p = promptLength; p < tStar; p++) if (p !== marker && idAt(p) !== markerId) candidates.push(p);
  const lateFrom = tStar - Math.ceil((tStar - promptLength) / 4);
  const late = candidates.filter((p) => p >= lateFrom);
  const rng = new Rng(generation.trialSeed);
  const draw = (list: readonly number[], label: string): number | null =>
    list.length === 0 ? null : list[rng.fork(label).int(list.length)]!;
  return { marker, c1: draw(candidates, "c1"), c2: draw(late, "c2"), c3: rarest(candidates), c4: null };

  function rarest(list: readonly number[]): number | null {
    let best: number | null = null;
    for (const p of list) {
      if (best === null) {
        best = p;
        continue;
      }
      const [f, fBest] = [frequencies.get(idAt(p)) ?? 0, frequencies.get(idAt(best)) ?? 0];
      if (f < fBest || (f === fBest && idAt(p) >= idAt(best))) best = p;
    }
    return best;
  }
}
