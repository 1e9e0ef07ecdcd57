import { StatsError } from "./errors.ts";
import { NAN_POLICIES, type NanPolicy, oneOf, resolveOptions } from "./options.ts";
import type { Sample } from "./samples.ts";

/**
 * Adjustment methods, defined as statsmodels.stats.multitest.multipletests defines them:
 * "bonferroni" min(1, m·p); "holm" step-down max_{j≤i} (m − j + 1)·p_(j); "bh" (Benjamini–Hochberg, "fdr_bh")
 * step-up min_{j≥i} m·p_(j)/j; "by" (Benjamini–Yekutieli, "fdr_by") BH times Σ_{k=1..m} 1/k. All capped at 1.
 * "bh" and "by" equal scipy.stats.false_discovery_control(method="bh" | "by").
 */
export type PAdjustMethod = "bonferroni" | "holm" | "bh" | "by";

export interface PAdjustOptions {
  /** "holm" by default (controls the family-wise error rate under any dependence, never worse than Bonferroni). */
  readonly method: PAdjustMethod;
  /** NaN p-values: "raise" (default) throws; "omit" leaves them NaN and excludes them from the count m. */
  readonly nanPolicy: Exclude<NanPolicy, "propagate">;
}
export const DEFAULT_P_ADJUST_OPTIONS: PAdjustOptions = Object.freeze({ method: "holm", nanPolicy: "raise" });
export function resolvePAdjustOptions(input: unknown): Readonly<PAdjustOptions> {
  return resolveOptions(
    "adjustPValues",
    DEFAULT_P_ADJUST_OPTIONS,
    {
      method: oneOf(["bonferroni", "holm", "bh", "by"]),
      nanPolicy: oneOf(NAN_POLICIES.filter((p) => p !== "propagate")),
    },
    input,
  );
}

/** Adjusted p-values in the input order. */
export function adjustPValues(pValues: Sample, options?: Partial<PAdjustOptions>): number[] {
  const { method, nanPolicy } = resolvePAdjustOptions(options);
  const out = new Array<number>(pValues.length).fill(NaN);
  const index: number[] = [];
  for (let i = 0; i < pValues.length; i++) {
    const p = pValues[i];
    if (typeof p === "number" && Number.isNaN(p) && nanPolicy === "omit") continue;
    if (typeof p !== "number" || !(p >= 0 && p <= 1)) {
      throw new StatsError(Number.isNaN(p) ? "NAN_IN_DATA" : "INVALID_ARGUMENT", {
        where: "adjustPValues",
        field: `pValues[${i}]`,
        expected: "a p-value in [0, 1]",
        got: String(p),
        ...(Number.isNaN(p) ? { fix: 'pass { nanPolicy: "omit" } to skip NaN' } : {}),
      });
    }
    index.push(i);
  }
  const m = index.length;
  if (m === 0) return out;
  const order = index.sort((a, b) => (pValues[a] as number) - (pValues[b] as number));
  const sorted = order.map((i) => pValues[i] as number);
  const adjusted = new Array<number>(m);
  if (method === "bonferroni") {
    sorted.forEach((p, r) => (adjusted[r] = Math.min(1, p * m)));
  } else if (method === "holm") {
    let running = 0;
    sorted.forEach((p, r) => {
      running = Math.max(running, (m - r) * p);
      adjusted[r] = Math.min(1, running);
    });
  } else {
    let harmonic = 1;
    if (method === "by") {
      harmonic = 0;
      for (let k = 1; k <= m; k++) harmonic += 1 / k;
    }
    let running = Infinity;
    for (let r = m - 1; r >= 0; r--) {
      running = Math.min(running, ((sorted[r] as number) * m * harmonic) / (r + 1));
      adjusted[r] = Math.min(1, running);
    }
  }
  order.forEach((i, r) => (out[i] = adjusted[r] as number));
  return out;
}

/** Which hypotheses are rejected at level `alpha` after adjustment (adjusted p ≤ alpha). */
export function rejectHypotheses(pValues: Sample, alpha = 0.05, options?: Partial<PAdjustOptions>): boolean[] {
  return adjustPValues(pValues, options).map((p) => p <= alpha);
}
