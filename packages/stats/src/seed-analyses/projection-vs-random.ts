import { signTest } from "../binomial-test.ts";
import { StatsError } from "../errors.ts";
import { type MatrixInput, toMatrix } from "../matrix.ts";
import { ALTERNATIVES, type Alternative, integerAtLeast, isBoolean, oneOf, resolveOptions } from "../options.ts";
import { isSeedOrRng, permutationPValue } from "../permutation.ts";
import { type Rng, type Seed, toRng } from "../rng.ts";
import { type Sample, strictSample } from "../samples.ts";

export interface ProjectionTestOptions {
  /** Random direction sets drawn from the dictionary; 1000 by default (seed 000 used 1000). */
  readonly nPermutations: number;
  /** How a set of projections is summarized: "mean-abs" (default, seed 000), "mean", or "max-abs". */
  readonly statistic: "mean-abs" | "mean" | "max-abs";
  /** Divide each dictionary row by its norm before projecting (default true); false projects on raw rows. */
  readonly normalize: boolean;
  /** Draw random directions only from rows not chosen (default true). */
  readonly excludeChosen: boolean;
  /** "greater" (default): are the chosen directions more aligned than random ones? */
  readonly alternative: Alternative;
  readonly seed: Seed | Rng;
}
export const DEFAULT_PROJECTION_TEST_OPTIONS: ProjectionTestOptions = Object.freeze({
  nPermutations: 1000,
  statistic: "mean-abs",
  normalize: true,
  excludeChosen: true,
  alternative: "greater",
  seed: 0,
});
export function resolveProjectionTestOptions(input: unknown): Readonly<ProjectionTestOptions> {
  return resolveOptions(
    "projectionVsRandomDirections",
    DEFAULT_PROJECTION_TEST_OPTIONS,
    {
      nPermutations: integerAtLeast(1),
      statistic: oneOf(["mean-abs", "mean", "max-abs"]),
      normalize: isBoolean,
      excludeChosen: isBoolean,
      alternative: oneOf(ALTERNATIVES),
      seed: isSeedOrRng,
    },
    input,
  );
}

export interface ProjectionTestResult {
  /** Per chosen row: its index and the projection of the difference on it. */
  readonly projections: readonly { readonly index: number; readonly projection: number }[];
  /** The summary statistic of the chosen projections. */
  readonly statistic: number;
  /** Mean and SD of the statistic over random direction sets. */
  readonly nullMean: number;
  readonly nullSd: number;
  /** (b + 1)/(m + 1) with b random sets at least as extreme. */
  readonly pValue: number;
  readonly monteCarloError: number;
  readonly nullDistribution: Float64Array;
  /** How many chosen projections are positive / negative, and the sign test of that split. */
  readonly positive: number;
  readonly negative: number;
  readonly signTestP: number;
}

/**
 * Seed 000, Track A: is a difference vector (e.g. mean residual of condition 1 − condition 2) unusually aligned with
 * chosen dictionary directions (e.g. SAE decoder rows of EM-persona features), compared with equally many random
 * directions from the same dictionary? difference: [dModel]; dictionary: [nFeatures, dModel]; chosen: row indices.
 */
export function projectionVsRandomDirections(
  difference: Sample,
  dictionary: MatrixInput,
  chosen: readonly number[],
  options?: Partial<ProjectionTestOptions>,
): ProjectionTestResult {
  const where = "projectionVsRandomDirections";
  const opts = resolveProjectionTestOptions(options);
  strictSample(where, "difference", difference, 1);
  const dict = toMatrix(where, "dictionary", dictionary);
  if (dict.cols !== difference.length) {
    throw new StatsError("LENGTH_MISMATCH", {
      where,
      field: "dictionary",
      expected: `rows of length ${difference.length} (the difference's length)`,
      got: `cols ${dict.cols}`,
      fix: "pass the decoder as [nFeatures, dModel]",
    });
  }
  const chosenSet = new Set(chosen);
  if (
    chosen.length === 0 ||
    chosenSet.size !== chosen.length ||
    !chosen.every((i) => Number.isSafeInteger(i) && i >= 0 && i < dict.rows)
  ) {
    throw new StatsError("INVALID_ARGUMENT", {
      where,
      field: "chosen",
      expected: `distinct row indices in [0, ${dict.rows})`,
      got: JSON.stringify(chosen.slice(0, 10)),
    });
  }
  const pool = opts.excludeChosen
    ? Array.from({ length: dict.rows }, (_, i) => i).filter((i) => !chosenSet.has(i))
    : Array.from({ length: dict.rows }, (_, i) => i);
  if (pool.length < chosen.length) {
    throw new StatsError("SAMPLE_TOO_SMALL", {
      where,
      field: "dictionary",
      expected: `at least ${chosen.length} rows to draw from`,
      got: `${pool.length}`,
    });
  }
  const project = (row: number): number => {
    let dot = 0;
    let nn = 0;
    const off = row * dict.cols;
    for (let j = 0; j < dict.cols; j++) {
      const w = dict.data[off + j] as number;
      dot += w * (difference[j] as number);
      nn += w * w;
    }
    if (!opts.normalize) return dot;
    if (nn === 0)
      throw new StatsError("DEGENERATE", {
        where,
        field: `dictionary[${row}]`,
        expected: "a non-zero row",
        got: "norm 0",
        fix: "pass { normalize: false } or drop dead rows",
      });
    return dot / Math.sqrt(nn);
  };
  const summarize = (values: Float64Array): number => {
    let acc = 0;
    for (const v of values) {
      if (opts.statistic === "max-abs") acc = Math.max(acc, Math.abs(v));
      else acc += opts.statistic === "mean-abs" ? Math.abs(v) : v;
    }
    return opts.statistic === "max-abs" ? acc : acc / values.length;
  };
  const projections = chosen.map((index) => ({ index, projection: project(index) }));
  const observed = summarize(Float64Array.from(projections, (p) => p.projection));
  const rng = toRng(opts.seed);
  const k = chosen.length;
  const nullDistribution = new Float64Array(opts.nPermutations);
  const buf = new Float64Array(k);
  for (let r = 0; r < opts.nPermutations; r++) {
    const picks = rng.sampleWithoutReplacement(pool.length, k);
    for (let i = 0; i < k; i++) buf[i] = project(pool[picks[i] as number] as number);
    nullDistribution[r] = summarize(buf);
  }
  let m = 0;
  for (const v of nullDistribution) m += v;
  m /= nullDistribution.length;
  let ss = 0;
  for (const v of nullDistribution) ss += (v - m) ** 2;
  const pValue = permutationPValue(nullDistribution, observed, opts.alternative, false);
  const positive = projections.filter((p) => p.projection > 0).length;
  const negative = projections.filter((p) => p.projection < 0).length;
  return {
    projections,
    statistic: observed,
    nullMean: m,
    nullSd: nullDistribution.length > 1 ? Math.sqrt(ss / (nullDistribution.length - 1)) : 0,
    pValue,
    monteCarloError: Math.sqrt((pValue * (1 - pValue)) / opts.nPermutations),
    nullDistribution,
    positive,
    negative,
    signTestP: positive + negative > 0 ? signTest(projections.map((p) => p.projection)).pValue : NaN,
  };
}
