import { StatsError } from "../errors.ts";
import type { OptionCheck } from "../options.ts";
import type { Rng } from "../rng.ts";

/** Option check for index or sign arrays (plain or typed); their contents are checked where they are used. */
export const isNumberArray: OptionCheck = (v) =>
  Array.isArray(v) || ArrayBuffer.isView(v) ? undefined : "an array of numbers";

/**
 * N sign-flip arrangements of P paired prompts, flattened [N·P] (flip k, prompt p at k·P + p), each entry ±1.
 * Drawn: every prompt's sign is an independent fair coin — bit i (least significant first) of successive
 * rng.nextUint32() words, a fresh word for every 32 prompts of every flip; bit 1 means −1. The identity is not
 * added: the observation itself is the "1 +" of the p-value.
 */
export function drawSignFlips(rng: Rng, nFlips: number, nPrompts: number): Int8Array {
  const signs = new Int8Array(nFlips * nPrompts);
  for (let k = 0; k < nFlips; k++) {
    for (let p = 0; p < nPrompts; p += 32) {
      const bits = rng.nextUint32();
      for (let b = 0; b < 32 && p + b < nPrompts; b++) signs[k * nPrompts + p + b] = (bits >>> b) & 1 ? -1 : 1;
    }
  }
  return signs;
}

/** Checks caller-given signs (length N·P, entries ±1) and returns them as Int8Array with N. */
export function checkSignFlips(
  where: string,
  signs: ArrayLike<number>,
  nPrompts: number,
  nPermutations: number | undefined,
): { signs: Int8Array; nFlips: number } {
  if (signs.length === 0 || signs.length % nPrompts !== 0) {
    throw new StatsError("LENGTH_MISMATCH", {
      where,
      field: "options.signs",
      expected: `N·${nPrompts} signs (N flips × ${nPrompts} prompts)`,
      got: `length ${signs.length}`,
    });
  }
  const nFlips = signs.length / nPrompts;
  if (nPermutations !== undefined && nPermutations !== nFlips) {
    throw new StatsError("LENGTH_MISMATCH", {
      where,
      field: "options.nPermutations",
      expected: `${nFlips} (the number of flips in options.signs) or left out`,
      got: String(nPermutations),
    });
  }
  const out = new Int8Array(signs.length);
  for (let i = 0; i < signs.length; i++) {
    const s = signs[i];
    if (s !== 1 && s !== -1) {
      throw new StatsError("INVALID_ARGUMENT", {
        where,
        field: `options.signs[${i}]`,
        expected: "+1 or −1",
        got: String(s),
      });
    }
    out[i] = s;
  }
  return { signs: out, nFlips };
}

/**
 * Σ_p s_kp·D_pj for every kept latent j under flip k, as total_j − Σ_{p: s_kp = −1} 2·D_pj: only the flipped rows are
 * read, each contiguous. twiceD: [P, nKept] (2·D), totals: [nKept]; writes out [nKept].
 */
export function flippedSums(
  twiceD: Float64Array,
  totals: Float64Array,
  signs: Int8Array,
  flip: number,
  nPrompts: number,
  out: Float64Array,
): void {
  const nKept = totals.length;
  out.set(totals);
  for (let p = 0; p < nPrompts; p++) {
    if (signs[flip * nPrompts + p] !== -1) continue;
    const off = p * nKept;
    for (let j = 0; j < nKept; j++) out[j] = (out[j] as number) - (twiceD[off + j] as number);
  }
}
