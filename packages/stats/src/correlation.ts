import { StatsError } from "./errors.ts";
import { integerAtLeast, numberOpen, oneOf, optional, resolveOptions } from "./options.ts";
import { isSeedOrRng } from "./permutation.ts";
import { quantileOfSorted } from "./quantile.ts";
import { averageRanks } from "./rank.ts";
import { type Rng, type Seed, toRng } from "./rng.ts";
import { type Sample, strictSample } from "./samples.ts";
import { countAtLeast, tieThreshold } from "./seed-analyses/permutation-ties.ts";
import { isNumberArray } from "./seed-analyses/sign-flips.ts";

export interface CorrelationTestOptions {
  /** "spearman" (default: Pearson's r of average ranks) or "pearson". */
  readonly method: "spearman" | "pearson";
  /** Permutations of y against x for the two-sided p; 10 000 by default. */
  readonly nPermutations: number;
  /** Bootstrap resamples of the (x, y) pairs for the percentile interval; 10 000 by default. */
  readonly nBootstrap: number;
  /** Confidence level of the interval; 0.95 by default. */
  readonly confidence: number;
  readonly seed: Seed | Rng;
  /** Explicit permutations [N·n]: permutation k pairs x_i with y[permutations[k·n + i]]. */
  readonly permutations?: ArrayLike<number>;
  /** Explicit bootstrap draws [B·n]: resample b is the pairs bootstrapIndices[b·n … b·n + n − 1]. */
  readonly bootstrapIndices?: ArrayLike<number>;
}
const DEFAULTS: CorrelationTestOptions = Object.freeze({
  method: "spearman",
  nPermutations: 10_000,
  nBootstrap: 10_000,
  confidence: 0.95,
  seed: 0,
});

export interface CorrelationTestResult {
  /** The correlation; NaN when x or y is constant. */
  readonly rho: number;
  /** (1 + #{k : |ρ_k| ≥ |ρ|}) / (1 + N), ties up to rounding counted; NaN when rho is. */
  readonly pValue: number;
  /** Percentile bootstrap interval (numpy's linear quantiles of the resampled ρ; constant resamples skipped). */
  readonly ci: [number, number];
  readonly n: number;
  readonly method: "spearman" | "pearson";
  readonly nPermutations: number;
  /** Resamples with a defined ρ (those where x or y came out constant are skipped). */
  readonly nBootstrapUsed: number;
}

/** Spearman's ρ: Pearson's r of the average ranks (ties share their mean rank); NaN when x or y is constant. */
export function spearmanCorrelation(x: Sample, y: Sample): number {
  const [cx, cy] = checkPairs("spearmanCorrelation", x, y);
  return pearson(averageRanks(cx).ranks, averageRanks(cy).ranks);
}

/**
 * Does x (e.g. each prompt's feature gap between two conditions) go with y (e.g. the prompt's measured leakage)?
 * ρ with a two-sided permutation p (y shuffled against x, Fisher–Yates per permutation) and a percentile bootstrap
 * interval over resampled pairs (n × rng.nextInt(n) per resample). Permutations and resamples come from two child
 * streams of the seed (rng.split(), in that order), so explicit permutations leave the bootstrap draw unchanged.
 */
export function correlationTest(
  x: Sample,
  y: Sample,
  options?: Partial<CorrelationTestOptions>,
): CorrelationTestResult {
  const where = "correlationTest";
  const opts = resolveOptions(
    where,
    DEFAULTS,
    {
      method: oneOf(["spearman", "pearson"]),
      nPermutations: integerAtLeast(1),
      nBootstrap: integerAtLeast(1),
      confidence: numberOpen(0, 1),
      seed: isSeedOrRng,
      permutations: optional(isNumberArray),
      bootstrapIndices: optional(isNumberArray),
    },
    options,
  );
  const [cx, cy] = checkPairs(where, x, y);
  const n = cx.length;
  const transform = opts.method === "spearman" ? (v: Float64Array) => averageRanks(v).ranks : (v: Float64Array) => v;
  const rng = toRng(opts.seed);
  const permutationRng = rng.split();
  const bootstrapRng = rng.split();
  const permutations = indexDraws(where, "permutations", opts.permutations, n, () => {
    const out = new Int32Array(opts.nPermutations * n);
    const perm = Int32Array.from({ length: n }, (_, i) => i);
    for (let k = 0; k < opts.nPermutations; k++) out.set(permutationRng.shuffle(perm), k * n);
    return out;
  });
  const resamples = indexDraws(where, "bootstrapIndices", opts.bootstrapIndices, n, () =>
    Int32Array.from({ length: opts.nBootstrap * n }, () => bootstrapRng.nextInt(n)),
  );

  const tx = transform(cx);
  const ty = transform(cy);
  const rho = pearson(tx, ty);
  const nPermutations = permutations.length / n;
  if (Number.isNaN(rho))
    return { rho, pValue: NaN, ci: [NaN, NaN], n, method: opts.method, nPermutations, nBootstrapUsed: 0 };
  // The permuted ρ reuses the centred values and norms: only the pairing changes.
  const mx = tx.reduce((s, v) => s + v, 0) / n;
  const my = ty.reduce((s, v) => s + v, 0) / n;
  const ux = tx.map((v) => v - mx);
  const uy = ty.map((v) => v - my);
  const norm = Math.sqrt(ux.reduce((s, v) => s + v * v, 0) * uy.reduce((s, v) => s + v * v, 0));
  const nullAbs = new Float64Array(nPermutations);
  for (let k = 0; k < nPermutations; k++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += (ux[i] as number) * (uy[permutations[k * n + i] as number] as number);
    nullAbs[k] = Math.abs(s / norm);
  }
  nullAbs.sort();
  const pValue = (1 + countAtLeast(nullAbs, tieThreshold(Math.abs(rho), 1e-12))) / (1 + nPermutations);

  const boot: number[] = [];
  const bx = new Float64Array(n);
  const by = new Float64Array(n);
  for (let b = 0; b < resamples.length / n; b++) {
    for (let i = 0; i < n; i++) {
      const at = resamples[b * n + i] as number;
      bx[i] = cx[at] as number;
      by[i] = cy[at] as number;
    }
    const r = pearson(transform(bx), transform(by));
    if (!Number.isNaN(r)) boot.push(r);
  }
  const sorted = Float64Array.from(boot).sort();
  const tail = (1 - opts.confidence) / 2;
  const ci: [number, number] =
    sorted.length > 0 ? [quantileOfSorted(sorted, tail), quantileOfSorted(sorted, 1 - tail)] : [NaN, NaN];
  return { rho, pValue, ci, n, method: opts.method, nPermutations, nBootstrapUsed: sorted.length };
}

/** Pearson's r with two-pass centring; NaN when either side is constant. */
function pearson(x: Float64Array, y: Float64Array): number {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i] as number;
    my += y[i] as number;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (x[i] as number) - mx;
    const dy = (y[i] as number) - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN;
}

function checkPairs(where: string, x: Sample, y: Sample): [Float64Array, Float64Array] {
  const cx = Float64Array.from(strictSample(where, "x", x, 3));
  const cy = Float64Array.from(strictSample(where, "y", y, 3));
  if (cx.length !== cy.length)
    throw new StatsError("LENGTH_MISMATCH", {
      where,
      field: "y",
      expected: `${cx.length} values (one per x, paired)`,
      got: `${cy.length}`,
    });
  return [cx, cy];
}

/** Caller-given index draws [count·n] (each in [0, n)) or the seeded ones. */
function indexDraws(
  where: string,
  field: string,
  given: ArrayLike<number> | undefined,
  n: number,
  draw: () => Int32Array,
): Int32Array {
  if (given === undefined) return draw();
  if (given.length === 0 || given.length % n !== 0)
    throw new StatsError("LENGTH_MISMATCH", {
      where,
      field: `options.${field}`,
      expected: `a multiple of ${n} indices (one row of ${n} per draw)`,
      got: `length ${given.length}`,
    });
  const out = Int32Array.from(given);
  out.forEach((v, i) => {
    if (v !== given[i] || v < 0 || v >= n)
      throw new StatsError("INVALID_ARGUMENT", {
        where,
        field: `options.${field}[${i}]`,
        expected: `an integer in [0, ${n})`,
        got: String(given[i]),
      });
  });
  return out;
}
