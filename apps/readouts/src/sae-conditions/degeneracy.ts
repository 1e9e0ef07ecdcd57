/**
 * Honesty check: a readout position that cannot see the prompt (the last system token under causal attention) gives
 * the same residual for every prompt, so per-prompt statistics have zero variance. Detected from the data, per
 * condition, not assumed from the position's name.
 */
export interface DegeneracyWarning {
  /** The condition whose readouts are identical across prompts. */
  readonly condition: string;
  /** Largest spread across prompts of any residual coordinate, relative to the largest |value|. */
  readonly relativeSpread: number;
  readonly message: string;
}

/** Spread ≤ this fraction of the scale counts as identical (f32 forward passes of identical prefixes agree exactly). */
export const IDENTICAL_RELATIVE_SPREAD = 1e-6;

/** resid: per-item readout residuals [C·P, d], condition c's prompts at rows c·P … c·P + P − 1. */
export function detectDegeneracy(
  resid: Float32Array,
  labels: readonly string[],
  nPrompts: number,
  d: number,
  position: string,
): DegeneracyWarning[] {
  const out: DegeneracyWarning[] = [];
  labels.forEach((label, c) => {
    let spread = 0;
    let scale = 0;
    for (let k = 0; k < d; k++) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let p = 0; p < nPrompts; p++) {
        const v = resid[(c * nPrompts + p) * d + k]!;
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
        scale = Math.max(scale, Math.abs(v));
      }
      spread = Math.max(spread, hi - lo);
    }
    const relativeSpread = scale > 0 ? spread / scale : 0;
    if (relativeSpread <= IDENTICAL_RELATIVE_SPREAD)
      out.push({
        condition: label,
        relativeSpread,
        message:
          `position ${position}: under "${label}" the readout is identical for all ${nPrompts} prompts — it cannot ` +
          "see the prompt (causal attention); per-prompt tests have zero variance and report no p-values; use " +
          "last-prompt-token (or a region of the user turn) to compare prompts",
      });
  });
  return out;
}
