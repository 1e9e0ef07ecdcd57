import { describeValue, StatsError } from "../errors.ts";
import type { Matrix } from "../matrix.ts";
import { integerAtLeast, type OptionCheck, optional, resolveOptions } from "../options.ts";
import { isSeedOrRng } from "../permutation.ts";
import { type Rng, type Seed, toRng } from "../rng.ts";
import type { Sample } from "../samples.ts";
import { monteCarloPValue } from "./permutation-ties.ts";

export interface TrackAOptions {
  /** Random latent sets in the null; 1000 by default. Ignored (must match if given) when `nullSets` is given. */
  readonly nNull: number;
  readonly seed: Seed | Rng;
  /** Explicit null sets for reproduction: one index array per set, or all sets flattened [N·k]. */
  readonly nullSets?: readonly ArrayLike<number>[] | ArrayLike<number>;
}
const DEFAULTS: TrackAOptions = Object.freeze({ nNull: 1000, seed: 0 });
const isIndexArrays: OptionCheck = (v) =>
  Array.isArray(v) || ArrayBuffer.isView(v) ? undefined : "an array of index arrays, or one flat index array [N·k]";

export interface TrackAResult {
  /** T = mean over chosen latents of |⟨Δ̄, d_i/‖d_i‖⟩|. */
  readonly statistic: number;
  /** ⟨Δ̄, d_i/‖d_i‖⟩ per chosen latent, signed, in the order of `chosen`. */
  readonly projections: Float64Array; // [k]
  readonly nPositive: number;
  readonly nNegative: number;
  /** T of each null set. */
  readonly nullStatistics: Float64Array; // [N]
  /** Mean of nullStatistics (the seed's "random mean", 0.322 against its 0.265). */
  readonly nullMean: number;
  /** (1 + #{T_null ≥ T}) / (1 + N), ties up to rounding counted. */
  readonly pValue: number;
  /** The null sets used, flattened [N·k] (set r is entries r·k … r·k + k − 1). */
  readonly nullSets: Int32Array;
  readonly chosen: Int32Array; // [k]
  readonly nNull: number;
  /** Dead latents (decoder row of norm 0) met while drawing; they were left out of the pool. */
  readonly nDeadSkipped: number;
}

/**
 * Seed 000 Track A: are the chosen latents' decoder directions more aligned with the mean residual difference
 * Δ̄ [d] than random latents'? decoder: [dSae, d], row i = d_i (for dictionary_learning, whose decoder.weight is
 * [d, dSae], pass its transpose). Each null set is |chosen| latents drawn without replacement from the latents not
 * chosen (a partial Fisher–Yates over a persistent pool, rng.nextInt for each pick); dead latents (zero rows) have no
 * direction and are removed from the pool when met. Only the rows used are read, so a 131072 × 3584 float32 decoder
 * costs ~N·k row reads.
 */
export function trackAProjection(
  meanDifference: Sample,
  decoder: Matrix,
  chosen: ArrayLike<number>,
  options?: Partial<TrackAOptions>,
): TrackAResult {
  const where = "trackAProjection";
  const opts = resolveOptions(
    where,
    DEFAULTS,
    { nNull: integerAtLeast(1), seed: isSeedOrRng, nullSets: optional(isIndexArrays) },
    options,
  );
  const { rows, cols, data } = decoder;
  if (!Number.isSafeInteger(rows) || !Number.isSafeInteger(cols) || rows < 1 || data?.length !== rows * cols) {
    throw new StatsError("LENGTH_MISMATCH", {
      where,
      field: "decoder",
      expected: "{ data, rows, cols } with data.length = rows·cols (rows = latents)",
      got: `rows ${rows}, cols ${cols}, data.length ${data?.length}`,
    });
  }
  if (meanDifference.length !== cols) {
    throw new StatsError("LENGTH_MISMATCH", {
      where,
      field: "meanDifference",
      expected: `length ${cols} (the decoder's columns, the model dimension)`,
      got: `length ${meanDifference.length}`,
      fix: "pass W_dec as [dSae, d]: rows are latents",
    });
  }
  const delta = Float64Array.from(meanDifference);
  delta.forEach((v, i) => {
    if (!Number.isFinite(v))
      throw new StatsError("INVALID_ARGUMENT", { where, field: `meanDifference[${i}]`, expected: "a finite number" });
  });
  const chosenSet = checkIndices(where, "chosen", chosen, rows);
  const k = chosenSet.length;
  if (k === 0) throw new StatsError("EMPTY_SAMPLE", { where, field: "chosen", expected: "at least one latent index" });

  // Projections on demand: 0 = not yet computed, 1 = live, 2 = dead row.
  const state = new Uint8Array(rows);
  const projection = new Float64Array(rows);
  const project = (row: number): boolean => {
    if (state[row] === 0) {
      let dot = 0;
      let norm2 = 0;
      const off = row * cols;
      for (let c = 0; c < cols; c++) {
        const w = data[off + c] as number;
        dot += w * (delta[c] as number);
        norm2 += w * w;
      }
      if (!Number.isFinite(dot) || !Number.isFinite(norm2))
        throw new StatsError("INVALID_ARGUMENT", { where, field: `decoder row ${row}`, expected: "finite weights" });
      state[row] = norm2 > 0 ? 1 : 2;
      projection[row] = norm2 > 0 ? dot / Math.sqrt(norm2) : 0;
    }
    return state[row] === 1;
  };
  const meanAbs = (indices: ArrayLike<number>, from: number): number => {
    let s = 0;
    for (let i = 0; i < k; i++) s += Math.abs(projection[indices[from + i] as number] as number);
    return s / k;
  };

  const projections = new Float64Array(k);
  chosenSet.forEach((row, i) => {
    if (!project(row))
      throw new StatsError("DEGENERATE", {
        where,
        field: `chosen[${i}]`,
        expected: "a latent with a non-zero decoder row",
        got: `latent ${row} (dead)`,
      });
    projections[i] = projection[row] as number;
  });
  const statistic = meanAbs(chosenSet, 0);

  const isChosen = new Uint8Array(rows);
  for (const row of chosenSet) isChosen[row] = 1;
  let nullSets: Int32Array;
  let nDeadSkipped = 0;
  if (opts.nullSets !== undefined) {
    nullSets = explicitNullSets(where, opts.nullSets, k, rows, isChosen);
    const n = nullSets.length / k;
    if (options?.nNull !== undefined && options.nNull !== n)
      throw new StatsError("LENGTH_MISMATCH", {
        where,
        field: "options.nNull",
        expected: `${n} (the number of sets in options.nullSets) or left out`,
        got: String(options.nNull),
      });
    nullSets.forEach((row, i) => {
      if (!project(row))
        throw new StatsError("DEGENERATE", {
          where,
          field: `options.nullSets[${Math.floor(i / k)}]`,
          expected: "latents with non-zero decoder rows",
          got: `latent ${row} (dead)`,
        });
    });
  } else {
    const rng = toRng(opts.seed);
    const pool = Int32Array.from({ length: rows - k }, () => 0);
    for (let row = 0, i = 0; row < rows; row++) if (!isChosen[row]) pool[i++] = row;
    let size = pool.length;
    nullSets = new Int32Array(opts.nNull * k);
    for (let r = 0; r < opts.nNull; r++) {
      for (let i = 0; i < k; i++) {
        for (;;) {
          if (size - i < 1)
            throw new StatsError("SAMPLE_TOO_SMALL", {
              where,
              field: "decoder",
              expected: `at least ${k} live latents outside the chosen set`,
              got: `${size}`,
            });
          const j = i + rng.nextInt(size - i);
          const row = pool[j] as number;
          pool[j] = pool[i] as number;
          pool[i] = row;
          if (project(row)) break;
          // A dead row leaves the pool for good: swap it past the end.
          pool[i] = pool[size - 1] as number;
          pool[size - 1] = row;
          size--;
          nDeadSkipped++;
        }
        nullSets[r * k + i] = pool[i] as number;
      }
    }
  }
  const nNull = nullSets.length / k;
  const nullStatistics = Float64Array.from({ length: nNull }, (_, r) => meanAbs(nullSets, r * k));
  let nullSum = 0;
  for (const v of nullStatistics) nullSum += v;
  let nPositive = 0;
  let nNegative = 0;
  for (const v of projections) {
    if (v > 0) nPositive++;
    else if (v < 0) nNegative++;
  }
  return {
    statistic,
    projections,
    nPositive,
    nNegative,
    nullStatistics,
    nullMean: nullSum / nNull,
    pValue: monteCarloPValue(nullStatistics, statistic),
    nullSets,
    chosen: chosenSet,
    nNull,
    nDeadSkipped,
  };
}

/** Distinct integer indices in [0, rows). */
function checkIndices(where: string, field: string, indices: ArrayLike<number>, rows: number): Int32Array {
  if (!(Array.isArray(indices) || ArrayBuffer.isView(indices)))
    throw new StatsError("INVALID_ARGUMENT", {
      where,
      field,
      expected: "an array of latent indices",
      got: describeValue(indices),
    });
  const out = new Int32Array(indices.length);
  const seen = new Set<number>();
  for (let i = 0; i < indices.length; i++) {
    const v = indices[i] as number;
    if (!Number.isInteger(v) || v < 0 || v >= rows)
      throw new StatsError("INVALID_ARGUMENT", {
        where,
        field: `${field}[${i}]`,
        expected: `an integer latent index in [0, ${rows})`,
        got: String(v),
      });
    if (seen.has(v))
      throw new StatsError("INVALID_ARGUMENT", {
        where,
        field: `${field}[${i}]`,
        expected: "distinct indices",
        got: `${v} again`,
      });
    seen.add(v);
    out[i] = v;
  }
  return out;
}

function explicitNullSets(
  where: string,
  sets: readonly ArrayLike<number>[] | ArrayLike<number>,
  k: number,
  rows: number,
  isChosen: Uint8Array,
): Int32Array {
  const list: ArrayLike<number>[] =
    Array.isArray(sets) && sets.length > 0 && typeof sets[0] !== "number"
      ? (sets as ArrayLike<number>[])
      : chunk(sets as ArrayLike<number>, k, where);
  if (list.length === 0)
    throw new StatsError("EMPTY_SAMPLE", { where, field: "options.nullSets", expected: "at least one set" });
  const out = new Int32Array(list.length * k);
  list.forEach((set, r) => {
    const field = `options.nullSets[${r}]`;
    if (set.length !== k)
      throw new StatsError("LENGTH_MISMATCH", {
        where,
        field,
        expected: `${k} indices (|chosen|)`,
        got: `${set.length}`,
      });
    const checked = checkIndices(where, field, set, rows);
    checked.forEach((row, i) => {
      if (isChosen[row])
        throw new StatsError("INVALID_ARGUMENT", {
          where,
          field: `${field}[${i}]`,
          expected: "a latent not in chosen",
          got: String(row),
        });
    });
    out.set(checked, r * k);
  });
  return out;
}

function chunk(flat: ArrayLike<number>, k: number, where: string): ArrayLike<number>[] {
  if (flat.length % k !== 0)
    throw new StatsError("LENGTH_MISMATCH", {
      where,
      field: "options.nullSets",
      expected: `a multiple of ${k} indices (N sets × |chosen|)`,
      got: `length ${flat.length}`,
    });
  return Array.from({ length: flat.length / k }, (_, r) => Array.prototype.slice.call(flat, r * k, (r + 1) * k));
}
