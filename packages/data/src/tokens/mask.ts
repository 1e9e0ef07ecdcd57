import { DataError } from "../errors.ts";

/**
 * Which positions an SAE must not train on. The seed padded Alpaca to 512 with EOS and never masked the
 * padding — users asked for this, so padding, BOS and chosen special tokens are excluded by default.
 */
export interface MaskRules {
  /** Token ids never trained on wherever they occur (e.g. `<|im_start|>`, `<|endoftext|>`). */
  readonly excludeIds: readonly number[];
  /** Exclude the first position of every window (a BOS or a window boundary attention sink). */
  readonly excludeFirstPosition: boolean;
}

export const DEFAULT_MASK_RULES: MaskRules = Object.freeze({
  excludeIds: Object.freeze([]) as readonly number[],
  excludeFirstPosition: false,
});

/** Applies the rules to a window's ids, starting from an existing mask (padding already 0). In place. */
export function applyMaskRules(ids: Int32Array, mask: Uint8Array, rules: MaskRules): Uint8Array {
  const excluded = new Set(rules.excludeIds);
  for (let i = 0; i < ids.length; i++) if (excluded.has(ids[i]!)) mask[i] = 0;
  if (rules.excludeFirstPosition && mask.length > 0) mask[0] = 0;
  return mask;
}

/**
 * Marks activations whose L2 norm exceeds `factor` × the median norm of the batch (massive-activation tokens
 * such as attention sinks, which dominate an SAE's MSE). rows: [n, d] row-major. Returns 1 = keep.
 */
export function outlierNormMask(rows: Float32Array, width: number, factor: number): Uint8Array {
  if (width <= 0 || rows.length % width !== 0) {
    throw new DataError("BAD_ACTIVATIONS", `outlierNormMask: ${rows.length} values are not rows of width ${width}`);
  }
  if (!(factor > 0)) throw new DataError("BAD_CONFIG", `outlierNormMask: factor must be > 0, got ${factor}`);
  const n = rows.length / width;
  const norms = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let sum = 0;
    for (let c = r * width, end = c + width; c < end; c++) sum += rows[c]! * rows[c]!;
    norms[r] = Math.sqrt(sum);
  }
  const sorted = Float64Array.from(norms).sort();
  const median = n === 0 ? 0 : n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
  const keep = new Uint8Array(n);
  for (let r = 0; r < n; r++) keep[r] = norms[r]! <= factor * median ? 1 : 0;
  return keep;
}
