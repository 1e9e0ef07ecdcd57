import { meanUnchecked, sumSquaredDeviations } from "./descriptives.ts";
import { NAN_POLICIES, type NanPolicy, oneOf, resolveOptions } from "./options.ts";
import { cleanPairs, cleanSample, type DegenerateReason, type Sample } from "./samples.ts";
import { logGamma } from "./special/gamma.ts";

export interface EffectSizeOptions {
  /** NaN handling; "raise" by default. */
  readonly nanPolicy: NanPolicy;
  /**
   * Small-sample correction used by Hedges' g: "exact" (default) J(ν) = Γ(ν/2) / (√(ν/2) Γ((ν−1)/2)) with
   * ν = nx + ny − 2 (Hedges 1981), or "approximate" J ≈ 1 − 3/(4ν − 1). Ignored by Cohen's d and d_z.
   */
  readonly correction: "exact" | "approximate";
}
export const DEFAULT_EFFECT_SIZE_OPTIONS: EffectSizeOptions = Object.freeze({
  nanPolicy: "raise",
  correction: "exact",
});
export function resolveEffectSizeOptions(input: unknown): Readonly<EffectSizeOptions> {
  return resolveOptions(
    "effectSize",
    DEFAULT_EFFECT_SIZE_OPTIONS,
    { nanPolicy: oneOf(NAN_POLICIES), correction: oneOf(["exact", "approximate"]) },
    input,
  );
}

export interface EffectSize {
  /** The standardized effect; NaN when `degenerate` is set. */
  readonly value: number;
  readonly kind: "cohens-d" | "hedges-g" | "paired-dz";
  /** Raw (unstandardized) mean difference, always reported so a degenerate result still says how big the gap is. */
  readonly meanDifference: number;
  /** The standardizer: pooled SD (d, g) or SD of the differences (d_z). */
  readonly standardDeviation: number;
  readonly n: readonly number[];
  readonly degenerate?: DegenerateReason;
  readonly note?: string;
}

function build(kind: EffectSize["kind"], diff: number, sd: number, n: number[], factor = 1): EffectSize {
  if (Number.isNaN(diff))
    return {
      value: NaN,
      kind,
      meanDifference: NaN,
      standardDeviation: NaN,
      n,
      degenerate: "nan-input",
      note: 'NaN in the data with nanPolicy "propagate"',
    };
  if (!(sd > 0)) {
    return {
      value: NaN,
      kind,
      meanDifference: diff,
      standardDeviation: 0,
      n,
      degenerate: "zero-variance",
      note: `zero variance: a standardized effect of a ${diff} difference over an SD of 0 is undefined`,
    };
  }
  return { value: (diff / sd) * factor, kind, meanDifference: diff, standardDeviation: sd, n };
}

function pooled(where: string, x: Sample, y: Sample, nanPolicy: NanPolicy): { diff: number; sd: number; n: number[] } {
  const xs = cleanSample(where, "x", x, nanPolicy, 2);
  const ys = cleanSample(where, "y", y, nanPolicy, 2);
  if (xs === null || ys === null) return { diff: NaN, sd: NaN, n: [x.length, y.length] };
  const mx = meanUnchecked(xs);
  const my = meanUnchecked(ys);
  const ss = Math.max(0, sumSquaredDeviations(xs, mx)) + Math.max(0, sumSquaredDeviations(ys, my));
  return { diff: mx - my, sd: Math.sqrt(ss / (xs.length + ys.length - 2)), n: [xs.length, ys.length] };
}

/** Cohen's d with the pooled SD: (mean x − mean y) / √(((nx−1)s²x + (ny−1)s²y) / (nx + ny − 2)). */
export function cohensD(x: Sample, y: Sample, options?: Partial<EffectSizeOptions>): EffectSize {
  const opts = resolveEffectSizeOptions(options);
  const p = pooled("cohensD", x, y, opts.nanPolicy);
  return build("cohens-d", p.diff, p.sd, p.n);
}

/** Hedges' small-sample correction factor J(ν). */
export function hedgesCorrection(df: number, correction: EffectSizeOptions["correction"] = "exact"): number {
  if (correction === "approximate") return 1 - 3 / (4 * df - 1);
  if (df <= 1) return df === 1 ? 0 : NaN;
  return Math.exp(logGamma(df / 2) - 0.5 * Math.log(df / 2) - logGamma((df - 1) / 2));
}

/** Hedges' g = J(nx + ny − 2) · Cohen's d (exact gamma-function J by default; see EffectSizeOptions.correction). */
export function hedgesG(x: Sample, y: Sample, options?: Partial<EffectSizeOptions>): EffectSize {
  const opts = resolveEffectSizeOptions(options);
  const p = pooled("hedgesG", x, y, opts.nanPolicy);
  const df = (p.n[0] ?? 0) + (p.n[1] ?? 0) - 2;
  return build("hedges-g", p.diff, p.sd, p.n, hedgesCorrection(df, opts.correction));
}

/** Paired d_z = mean(x − y) / SD(x − y) (sample SD, ddof 1). */
export function pairedDz(x: Sample, y: Sample, options?: Partial<EffectSizeOptions>): EffectSize {
  const opts = resolveEffectSizeOptions(options);
  const pairs = cleanPairs("pairedDz", x, y, opts.nanPolicy, 2);
  if (pairs === null) return build("paired-dz", NaN, NaN, [x.length]);
  const d = pairs.x.map((v, i) => v - (pairs.y[i] as number));
  const m = meanUnchecked(d);
  return build("paired-dz", m, Math.sqrt(Math.max(0, sumSquaredDeviations(d, m)) / (d.length - 1)), [d.length]);
}
