/**
 * diff-SAE: a TopK SAE trained with the existing trainer on (chat − base) activations of the same tokens (the
 * science-of-finetuning toolkit's "SAE on activation differences"), and its top latents: ranked by the mass they
 * carry in the differences — Σ over rows of activation × ‖decoder row‖, i.e. how much of the reconstructed
 * difference each latent writes — with firing frequency, mean activation and the unit decoder direction.
 *
 * Train it on chat and plain-text windows together (as the stages read both datasets): on chat data alone a shift
 * that every row shares is learned by the decoder bias b_dec (initialised at the geometric median), not by a
 * latent — so the result also reports b_dec, and a large b_dec along a latent-free direction says exactly that.
 */
import { type MetricsLogger, type PairedActivationSource, type Sae, trainSae } from "@difflens/sae";
import { type ActivationSource, toHost } from "@difflens/tensor";
import { differenceSource } from "./paired-store.ts";

export interface DiffLatent {
  readonly latent: number;
  /** Fraction of rows where the latent fires. */
  readonly frequency: number;
  /** Mean activation over the rows where it fires. */
  readonly meanActivation: number;
  /** Σ activation × ‖W_dec[latent]‖ over all rows, divided by the rows. */
  readonly mass: number;
  /** W_dec[latent] / ‖W_dec[latent]‖ [dIn]. */
  readonly direction: Float32Array;
}

export interface DiffSaeResult {
  readonly sae: Sae;
  readonly finalDir: string | null;
  /** Top latents by mass, largest first. */
  readonly top: DiffLatent[];
  /** The decoder bias: the shift the SAE adds to every row (norm and unit direction [dIn]). */
  readonly bias: { readonly norm: number; readonly direction: Float32Array };
}

/**
 * Trains the diff-SAE on `train` (paired batches; their chat − base is what the SAE sees) and ranks its latents on
 * `evaluate` (default: the same paired source replayed). `config` is a SaeTrainConfig input (dIn is filled in).
 */
export async function trainDiffSae(opts: {
  train: PairedActivationSource;
  evaluate?: PairedActivationSource;
  config: Record<string, unknown>;
  outDir: string;
  topN?: number;
  logger?: MetricsLogger;
  resume?: boolean;
  /** Called after every training step. */
  onStep?: (step: number) => void;
}): Promise<DiffSaeResult> {
  const result = await trainSae({
    config: { dIn: opts.train.dIn, ...opts.config },
    source: differenceSource(opts.train),
    outDir: opts.outDir,
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(opts.resume ? { resume: true } : {}),
    ...(opts.onStep ? { onStep: (state: { step: number }) => void opts.onStep!(state.step) } : {}),
  });
  const top = await topDiffLatents(result.sae, differenceSource(opts.evaluate ?? opts.train), opts.topN ?? 20);
  const { bDec } = result.sae.weights;
  const norm = Math.hypot(...bDec);
  const bias = { norm, direction: Float32Array.from(bDec, (v) => v / (norm || 1)) };
  return { sae: result.sae, finalDir: result.finalDir, top, bias };
}

/** The `n` latents of `sae` with the largest mass on the differences of `source`. */
export async function topDiffLatents(sae: Sae, source: ActivationSource, n: number): Promise<DiffLatent[]> {
  const { dSae } = sae;
  const fires = new Float64Array(dSae),
    sum = new Float64Array(dSae);
  let rows = 0;
  for await (const batch of source) {
    const codes = sae.encode(await toHost(batch));
    rows += codes.rows;
    for (let p = 0; p < codes.indices.length; p++) {
      fires[codes.indices[p]!]! += 1;
      sum[codes.indices[p]!]! += codes.values[p]!;
    }
  }
  const norms = Float64Array.from({ length: dSae }, (_, i) => Math.hypot(...sae.featureDirection(i)));
  const mass = Float64Array.from(sum, (s, i) => (rows > 0 ? (s * norms[i]!) / rows : 0));
  const order = Array.from({ length: dSae }, (_, i) => i).sort((a, b) => mass[b]! - mass[a]! || a - b);
  return order.slice(0, n).map((latent) => ({
    latent,
    frequency: rows > 0 ? fires[latent]! / rows : 0,
    meanActivation: fires[latent]! > 0 ? sum[latent]! / fires[latent]! : 0,
    mass: mass[latent]!,
    direction: Float32Array.from(sae.featureDirection(latent), (v) => v / (norms[latent]! || 1)),
  }));
}
