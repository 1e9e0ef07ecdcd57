/**
 * Per-latent activation statistics of SAEs over the features windows: how often each latent fires, its largest
 * activation and a histogram of its nonzero activations. One model forward per batch of windows serves every SAE
 * that reads that model (S and D share the base model's pass; M, DF and MF the chat model's).
 *
 * Counted positions are the windows' mask (padding, excluded special tokens and, for chat data, anything outside
 * the trained regions are skipped), the same positions the max-activating contexts count. A latent "fires" where
 * its code is > 0 (TopK codes are ReLU'd). Histogram: DENSITY_BINS equal bins per latent with edges
 * linspace(0, maxActivation[i], DENSITY_BINS + 1) (so edges need not be stored); the maximum falls in the last
 * bin; a latent that never fires has max 0 and an all-zero histogram.
 */
import type { ContextWindow } from "@difflens/app-kit";
import { harvest, type Model } from "@difflens/runtime";
import type { Sae } from "@difflens/sae";
import { padTokenRows, type TokenBatch } from "@difflens/tokenizer";

export const DENSITY_BINS = 32;

export interface LatentStats {
  readonly dSae: number;
  /** Counted positions scanned. */
  readonly tokens: number;
  /** [dSae] positions where the latent's code is > 0. */
  readonly firing: Int32Array;
  /** [dSae] its largest activation (0 when it never fires). */
  readonly maxActivation: Float32Array;
  /** [dSae, bins] counts of its nonzero activations, row-major. */
  readonly histogram: Int32Array;
  readonly bins: number;
}

export interface LatentStatsOptions {
  readonly model: Model;
  readonly hook: string;
  readonly windows: readonly ContextWindow[];
  readonly windowsPerForward: number;
  /** SAEs reading `model` at `hook`; one result per SAE, in order. */
  readonly saes: readonly Sae[];
  readonly bins?: number;
}

export async function latentStats(opts: LatentStatsOptions): Promise<LatentStats[]> {
  const bins = opts.bins ?? DENSITY_BINS;
  // Per SAE, the (latent, value) pairs of every counted position, batch by batch; binned once maxima are known.
  const pairs = opts.saes.map(() => ({ latents: [] as Int32Array[], values: [] as Float32Array[] }));
  let tokens = 0;
  let windowIndex = 0;
  for await (const rows of harvest(opts.model, opts.hook, windowBatches(opts.windows, opts.windowsPerForward))) {
    // rows: [real tokens of the batch's windows, dModel], windows in order.
    const first = windowIndex;
    let counted = 0;
    for (let r = 0; r < rows.shape[0]!; windowIndex++) {
      const w = opts.windows[windowIndex]!;
      for (let pos = 0; pos < w.length; pos++, r++) if (w.mask[pos] !== 0) counted++;
    }
    tokens += counted;
    for (const [s, sae] of opts.saes.entries()) {
      const codes = sae.encode(rows);
      const latents = new Int32Array(codes.indices.length);
      const values = new Float32Array(codes.values.length);
      let n = 0;
      let r = 0;
      for (let wi = first; wi < windowIndex; wi++) {
        const w = opts.windows[wi]!;
        for (let pos = 0; pos < w.length; pos++, r++) {
          if (w.mask[pos] === 0) continue;
          for (let p = codes.indptr[r]!; p < codes.indptr[r + 1]!; p++) {
            if (!(codes.values[p]! > 0)) continue;
            latents[n] = codes.indices[p]!;
            values[n++] = codes.values[p]!;
          }
        }
      }
      pairs[s]!.latents.push(latents.subarray(0, n));
      pairs[s]!.values.push(values.subarray(0, n));
    }
  }
  return opts.saes.map((sae, s) => binned(sae.dSae, tokens, bins, pairs[s]!.latents, pairs[s]!.values));
}

function binned(dSae: number, tokens: number, bins: number, latents: Int32Array[], values: Float32Array[]) {
  const firing = new Int32Array(dSae);
  const maxActivation = new Float32Array(dSae);
  for (const [c, ls] of latents.entries()) {
    const vs = values[c]!;
    for (let p = 0; p < ls.length; p++) {
      firing[ls[p]!]!++;
      if (vs[p]! > maxActivation[ls[p]!]!) maxActivation[ls[p]!] = vs[p]!;
    }
  }
  const histogram = new Int32Array(dSae * bins);
  for (const [c, ls] of latents.entries()) {
    const vs = values[c]!;
    for (let p = 0; p < ls.length; p++) {
      const l = ls[p]!;
      const bin = Math.min(bins - 1, Math.floor((vs[p]! / maxActivation[l]!) * bins));
      histogram[l * bins + bin]!++;
    }
  }
  return { dSae, tokens, firing, maxActivation, histogram, bins };
}

/** Windows stacked `perForward` at a time, cut to the longest real length; padding is unattended and dropped. */
function* windowBatches(windows: readonly ContextWindow[], perForward: number): Generator<TokenBatch> {
  for (let i = 0; i < windows.length; i += perForward) {
    const rows = windows.slice(i, i + perForward).map((w) => w.ids.subarray(0, w.length));
    yield padTokenRows(rows, { padding: "right", padTokenId: 0 });
  }
}
