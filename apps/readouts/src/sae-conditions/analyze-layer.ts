/**
 * One layer's statistics from its readouts: condition similarity (cosine of mean SAE activation vectors), Track A
 * (chosen decoder directions vs random latent sets) and Track B (paired max-T over latents, per condition pair), all
 * from @difflens/stats. Prompts are the exchangeable unit: every statistic reads one value per (condition, prompt).
 */

import type { Sae } from "@difflens/sae";
import { cosineSimilarity, pairedMaxT, seedPercentileRule, trackAProjection } from "@difflens/stats";
import type { SaeConditionsConfig } from "./config.ts";
import type { DegeneracyWarning } from "./degeneracy.ts";

export interface Similarity {
  readonly labels: readonly string[];
  /** cos(mean act under a, mean act under b); null where a condition's mean vector is zero. */
  readonly matrix: readonly (readonly (number | null)[])[];
}

export interface TrackAPairResult {
  readonly pair: readonly [string, string];
  readonly chosen: readonly number[];
  /** T = mean over chosen latents of |⟨Δ̄, d_i/‖d_i‖⟩|. */
  readonly statistic: number;
  readonly nullMean: number;
  readonly nNull: number;
  /** (1 + #{T_null ≥ T}) / (1 + N). */
  readonly pValue: number;
  /** Signed ⟨Δ̄, d_i/‖d_i‖⟩ per chosen latent (positive: a > b along the latent). */
  readonly projections: readonly { readonly latent: number; readonly projection: number }[];
  readonly nPositive: number;
  readonly nNegative: number;
  /** ‖Δ̄‖: how far apart the conditions' mean residuals are. */
  readonly meanDifferenceNorm: number;
}

export interface TopFeature {
  readonly latent: number;
  /** Paired effect size mean(D)/sd(D), D = act(a) − act(b) per prompt. */
  readonly dz: number;
  readonly t: number;
  readonly meanDifference: number;
  readonly pFamilywise: number;
  readonly pPerFeature: number;
  readonly link: string | null;
}

export interface TrackBPairResult {
  readonly pair: readonly [string, string];
  readonly counts: {
    /** Latents with family-wise (max-T) p ≤ α: the headline. */
    readonly familywise: number;
    /** Latents with per-feature p ≤ α (about α × active latents pass by chance). */
    readonly perFeature: number;
    /** Latents whose differences are identical across prompts: no t, no p. */
    readonly degenerate: number;
    /** Latents never active under either condition (D ≡ 0). */
    readonly inactive: number;
    /** Latents tested (not degenerate, not inactive). */
    readonly tested: number;
    /** The seed's rule (raw mean difference vs per-feature 99.9th percentile), when trackB.rule is "seed-percentile". */
    readonly seedRule?: number;
  };
  readonly alpha: number;
  readonly nPermutations: number;
  /** Every latent with a difference is degenerate: the pair cannot be tested at this position. */
  readonly allDegenerate: boolean;
  /** The largest |d_z| first. */
  readonly top: readonly TopFeature[];
  readonly note: string;
}

export interface LayerInputs {
  readonly layer: number;
  readonly sae: Sae;
  readonly labels: readonly string[];
  readonly nPrompts: number;
  /** Per-item mean SAE activation. // [C·P, dSae] */
  readonly acts: Float32Array;
  /** Per-item mean residual at the readout. // [C·P, d] */
  readonly resid: Float32Array;
  readonly degeneracy: readonly DegeneracyWarning[];
}

export function conditionSimilarity(x: LayerInputs): Similarity {
  const { labels, nPrompts: P, sae } = x;
  const means = labels.map((_, c) => {
    const m = new Float64Array(sae.dSae);
    for (let p = 0; p < P; p++) {
      const row = (c * P + p) * sae.dSae;
      for (let j = 0; j < sae.dSae; j++) m[j]! += x.acts[row + j]! / P;
    }
    return m;
  });
  const matrix = means.map((a) => means.map((b) => nullIfNaN(cosineSimilarity(a, b, { zeroNorm: "nan" }))));
  return { labels, matrix };
}

export function trackA(x: LayerInputs, config: SaeConditionsConfig): TrackAPairResult[] | null {
  const chosen = config.trackA?.latents[x.layer];
  if (config.trackA === null || chosen === undefined) return null;
  const d = x.sae.dIn;
  const decoder = { data: x.sae.weights.wDec, rows: x.sae.dSae, cols: d };
  return config.trackA.pairs.map((pair) => {
    const delta = meanDifference(x.resid, x.labels, x.nPrompts, d, pair);
    const r = trackAProjection(delta, decoder, chosen, { nNull: config.trackA!.nNull, seed: config.seed });
    return {
      pair,
      chosen,
      statistic: r.statistic,
      nullMean: r.nullMean,
      nNull: config.trackA!.nNull,
      pValue: r.pValue,
      projections: chosen.map((latent, i) => ({ latent, projection: r.projections[i]! })),
      nPositive: r.nPositive,
      nNegative: r.nNegative,
      meanDifferenceNorm: Math.sqrt(delta.reduce((s, v) => s + v * v, 0)),
    };
  });
}

/** Δ̄ = mean over prompts of resid(a) − resid(b). → [d] */
function meanDifference(
  resid: Float32Array,
  labels: readonly string[],
  P: number,
  d: number,
  [a, b]: readonly [string, string],
): Float64Array {
  const ca = labels.indexOf(a);
  const cb = labels.indexOf(b);
  const out = new Float64Array(d);
  for (let p = 0; p < P; p++) {
    for (let k = 0; k < d; k++) out[k]! += (resid[(ca * P + p) * d + k]! - resid[(cb * P + p) * d + k]!) / P;
  }
  return out;
}

export function trackB(x: LayerInputs, config: SaeConditionsConfig): TrackBPairResult[] {
  const cfg = config.trackB;
  const P = x.nPrompts;
  const n = x.sae.dSae;
  const block = (label: string) => {
    const c = x.labels.indexOf(label);
    return { data: x.acts.subarray(c * P * n, (c + 1) * P * n), rows: P, cols: n };
  };
  return cfg.pairs.map((pair) => {
    const a = block(pair[0]);
    const b = block(pair[1]);
    const options = { nPermutations: cfg.nPermutations, alpha: cfg.alpha, seed: config.seed };
    const r = pairedMaxT(a, b, options);
    const seedRule =
      cfg.rule === "seed-percentile"
        ? seedPercentileRule(a, b, { nPermutations: cfg.nPermutations, seed: config.seed }).pass.length
        : undefined;
    const inactive = r.nInactive;
    const tested = r.nActive;
    const top = topFeatures(r, cfg.top, (latent) => link(cfg.linkTemplate, x.layer, latent));
    const note =
      tested === 0 && r.nDegenerate === 0
        ? "the two conditions give identical activations for every prompt (D ≡ 0 for every latent): nothing to " +
          "test — are their system prompts the same text?"
        : r.allDegenerate
          ? "every latent that differs is degenerate (its difference is the same for every prompt): zero variance, " +
            "no t and no p-values; the readout position cannot see the prompt"
          : `family-wise (max-T) count is the headline; the per-feature count lets about α × ${tested} ≈ ` +
            `${(cfg.alpha * tested).toFixed(1)} latents pass by chance`;
    return {
      pair,
      counts: {
        familywise: r.passFamilywise.length,
        perFeature: r.passPerFeature.length,
        degenerate: r.nDegenerate,
        inactive,
        tested,
        ...(seedRule === undefined ? {} : { seedRule }),
      },
      alpha: cfg.alpha,
      nPermutations: cfg.nPermutations,
      allDegenerate: r.allDegenerate,
      top,
      note,
    };
  });
}

interface PairedMaxTLike {
  readonly t: ArrayLike<number>;
  readonly dz: ArrayLike<number>;
  readonly meanDifference: ArrayLike<number>;
  readonly pPerFeature: ArrayLike<number>;
  readonly pFamilywise: ArrayLike<number>;
}

function topFeatures(r: PairedMaxTLike, top: number, linkOf: (latent: number) => string | null): TopFeature[] {
  const tested: number[] = [];
  for (let j = 0; j < r.dz.length; j++) if (Number.isFinite(r.dz[j]!)) tested.push(j);
  tested.sort((i, j) => Math.abs(r.dz[j]!) - Math.abs(r.dz[i]!) || i - j);
  return tested.slice(0, top).map((latent) => ({
    latent,
    dz: r.dz[latent]!,
    t: r.t[latent]!,
    meanDifference: r.meanDifference[latent]!,
    pFamilywise: r.pFamilywise[latent]!,
    pPerFeature: r.pPerFeature[latent]!,
    link: linkOf(latent),
  }));
}

function link(template: string | null, layer: number, latent: number): string | null {
  return template === null
    ? null
    : template.replaceAll("{layer}", String(layer)).replaceAll("{latent}", String(latent));
}

function nullIfNaN(v: number): number | null {
  return Number.isNaN(v) ? null : v;
}
