/**
 * The seed's last next step: does the feature gap between two conditions predict behaviour? Per prompt, the gap on
 * the chosen latents (or the whole SAE vector) — "l2": ‖act(a) − act(b)‖₂, "mean-difference": mean over the latents of
 * act(a) − act(b) — against the prompt's score: Spearman ρ, two-sided permutation p, percentile bootstrap CI.
 */
import { correlationTest } from "@difflens/stats";
import type { BehaviourConfig } from "./config.ts";

export interface BehaviourLayerResult {
  readonly layer: number;
  readonly pair: readonly [string, string];
  readonly gap: "l2" | "mean-difference";
  /** The latents of the gap: "all" or their indices. */
  readonly latents: "all" | readonly number[];
  readonly rho: number | null;
  readonly pValue: number | null;
  readonly ci: readonly [number, number] | null;
  readonly n: number;
  /** Per-prompt gap, prompt order. */
  readonly gaps: readonly number[];
  /** Why no correlation was computed (a constant gap or score), else null. */
  readonly note: string | null;
}

export function behaviourLink(
  cfg: BehaviourConfig,
  layer: number,
  acts: Float32Array,
  labels: readonly string[],
  nPrompts: number,
  dSae: number,
  scores: Float64Array,
  trackALatents: readonly number[] | undefined,
  seed: number,
): BehaviourLayerResult {
  const latents = cfg.latents === "trackA" ? (trackALatents ?? null) : cfg.latents;
  const ca = labels.indexOf(cfg.pair[0]);
  const cb = labels.indexOf(cfg.pair[1]);
  const gaps = Array.from({ length: nPrompts }, (_, p) => {
    const ra = (ca * nPrompts + p) * dSae;
    const rb = (cb * nPrompts + p) * dSae;
    const diff = (j: number) => acts[ra + j]! - acts[rb + j]!;
    const js = latents === "all" || latents === null ? null : latents;
    const count = js === null ? dSae : js.length;
    let s = 0;
    for (let q = 0; q < count; q++) {
      const v = diff(js === null ? q : js[q]!);
      s += cfg.gap === "l2" ? v * v : v;
    }
    return cfg.gap === "l2" ? Math.sqrt(s) : s / count;
  });
  const base = { layer, pair: cfg.pair, gap: cfg.gap, latents: latents ?? "all", n: nPrompts, gaps };
  const constant = (x: ArrayLike<number>) => Array.from(x).every((v) => v === x[0]);
  if (constant(gaps) || constant(scores)) {
    const what = constant(gaps) ? "the gap is the same for every prompt" : "the score is the same for every prompt";
    return { ...base, rho: null, pValue: null, ci: null, note: `${what}: no correlation (zero variance)` };
  }
  const r = correlationTest(gaps, scores, {
    method: "spearman",
    nPermutations: cfg.nPermutations,
    nBootstrap: cfg.nBootstrap,
    confidence: cfg.confidence,
    seed,
  });
  return { ...base, rho: r.rho, pValue: r.pValue, ci: [r.ci[0], r.ci[1]], note: null };
}
