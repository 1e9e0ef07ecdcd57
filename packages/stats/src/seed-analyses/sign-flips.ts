import { StatsError } from "../errors.ts";
import { integerAtLeast, type OptionCheck, optional } from "../options.ts";
import { isSeedOrRng } from "../permutation.ts";
import { type Rng, type Seed, toRng } from "../rng.ts";

/** Option check for index or sign arrays (plain or typed); their contents are checked where they are used. */
export const isNumberArray: OptionCheck = (v) =>
  Array.isArray(v) || ArrayBuffer.isView(v) ? undefined : "an array of numbers";

/** Latents per cache block: 512 × P float64 differences (200 KB at P = 50) stay in L2 while every flip passes. */
export const LATENT_BLOCK = 512;

/** The options every sign-flip analysis takes. */
export interface SignFlipOptions {
  /** Flips N; 1000 by default. Must match (or be left out) when `signs` is given. */
  readonly nPermutations: number;
  readonly seed: Seed | Rng;
  /** Explicit flips [N·P] of ±1 (flip k, prompt p at k·P + p), for reproduction; overrides the seeded draw. */
  readonly signs?: ArrayLike<number>;
}
export const SIGN_FLIP_OPTION_CHECKS = {
  nPermutations: integerAtLeast(1),
  seed: isSeedOrRng,
  signs: optional(isNumberArray),
} as const;

/** The flips for P prompts: the caller's `signs` (checked) or N seeded ones. requestedN: options.nPermutations as given. */
export function signFlips(
  where: string,
  options: SignFlipOptions,
  requestedN: number | undefined,
  nPrompts: number,
): { signs: Int8Array; nFlips: number } {
  return options.signs !== undefined
    ? checkSignFlips(where, options.signs, nPrompts, requestedN)
    : { signs: drawSignFlips(toRng(options.seed), options.nPermutations, nPrompts), nFlips: options.nPermutations };
}

/**
 * What every flip reads, for the kept latents listed in `columns` (positions in kept): twiceD [P, nColumns] = 2·D
 * and totals [nColumns] = Σ_p D_pj.
 */
export function flipInputs(
  differences: Float64Array,
  nPrompts: number,
  nKept: number,
  columns: readonly number[],
): { twiceD: Float64Array; totals: Float64Array } {
  const n = columns.length;
  const twiceD = new Float64Array(nPrompts * n);
  const totals = new Float64Array(n);
  for (let p = 0; p < nPrompts; p++) {
    for (let i = 0; i < n; i++) {
      const d = differences[p * nKept + (columns[i] as number)] as number;
      twiceD[p * n + i] = 2 * d;
      totals[i] = (totals[i] as number) + d;
    }
  }
  return { twiceD, totals };
}

/**
 * N sign-flip arrangements of P paired prompts, flattened [N·P] (flip k, prompt p at k·P + p), each entry ±1.
 * Drawn: every prompt's sign is an independent fair coin — bit i (least significant first) of successive
 * rng.nextUint32() words, a fresh word for every 32 prompts of every flip; bit 1 means −1. The identity is not
 * added: the observation itself is the "1 +" of the p-value.
 */
function drawSignFlips(rng: Rng, nFlips: number, nPrompts: number): Int8Array {
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
function checkSignFlips(
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
 * Σ_p s_kp·D_pj for the kept latents j in [from, to) under flip k, as total_j − Σ_{p: s_kp = −1} 2·D_pj: only the
 * flipped rows are read, each a contiguous run, four at a time (one load and store of out per four rows; the
 * subtractions stay in row order). twiceD: [P, nKept] (2·D), totals: [nKept]; writes out[0 … to − from).
 */
export function flippedSums(
  twiceD: Float64Array,
  totals: Float64Array,
  nKept: number,
  from: number,
  to: number,
  signs: Int8Array,
  flip: number,
  nPrompts: number,
  out: Float64Array,
): void {
  const width = to - from;
  for (let j = 0; j < width; j++) out[j] = totals[from + j] as number;
  const rows: number[] = [];
  for (let p = 0; p < nPrompts; p++) if (signs[flip * nPrompts + p] === -1) rows.push(p * nKept + from);
  let r = 0;
  for (; r + 4 <= rows.length; r += 4) {
    const o0 = rows[r] as number;
    const o1 = rows[r + 1] as number;
    const o2 = rows[r + 2] as number;
    const o3 = rows[r + 3] as number;
    for (let j = 0; j < width; j++)
      out[j] =
        (out[j] as number) -
        (twiceD[o0 + j] as number) -
        (twiceD[o1 + j] as number) -
        (twiceD[o2 + j] as number) -
        (twiceD[o3 + j] as number);
  }
  for (; r < rows.length; r++) {
    const o = rows[r] as number;
    for (let j = 0; j < width; j++) out[j] = (out[j] as number) - (twiceD[o + j] as number);
  }
}
