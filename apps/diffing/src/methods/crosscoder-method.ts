/**
 * A crosscoder (BatchTopK or L1, @difflens/sae) trained on one paired store and analysed the paper's way, written
 * beside the diff methods:
 *   <out>/crosscoder-<kind>/                  the trainer's run folder (its last checkpoint is the crosscoder)
 *   <out>/crosscoder-<kind>/analysis.json     checkpoint, relative-norm histogram and band counts, and per scored
 *                                             latent {latent, relativeNorm, band, count, nuReconstruction, nuError,
 *                                             chatSpecific}
 *   <out>/crosscoder-<kind>/latents.safetensors   chat_directions F32 [scored, dIn] (unit d^chat rows, in the
 *                                             order of analysis.json's latents)
 * Scored latents: every chat-only one (relative norm ≥ 0.9) and the `chatLeaning` latents of highest relative norm
 * besides, so a chat-specific latent that the norm bands miss (see the README's numbers on the toy) is still scored
 * by Latent Scaling.
 */
import * as path from "node:path";
import { writeJsonAtomic } from "@difflens/common";
import {
  type CrosscoderKind,
  isChatSpecific,
  latentScaling,
  latentsByBand,
  normBand,
  relativeDecoderNorms,
  relativeNormHistogram,
  trainCrosscoder,
} from "@difflens/sae";
import { Tensor, writeSafetensors } from "@difflens/tensor";
import type { PairedStore } from "./paired-store.ts";

export interface CrosscoderLatent {
  readonly latent: number;
  readonly relativeNorm: number;
  readonly band: string;
  readonly count: number;
  readonly nuReconstruction: number;
  readonly nuError: number;
  readonly chatSpecific: boolean;
  /** d^chat / ‖d^chat‖ [dIn]. */
  readonly chatDirection: Float32Array;
}

export async function runCrosscoderMethod(opts: {
  store: PairedStore;
  outDir: string;
  kind: CrosscoderKind;
  /** CrosscoderTrainConfig input (dIn, kind and hookName are filled in). */
  config: Record<string, unknown>;
  train: { readonly batchSize: number; readonly epochs: number; readonly seed: number };
  chatLeaning?: number;
  /** Called after every training step (progress). */
  onStep?: (step: number) => void;
}): Promise<CrosscoderLatent[]> {
  const { store } = opts;
  const dir = path.join(opts.outDir, `crosscoder-${opts.kind}`);
  const { crosscoder, finalDir } = await trainCrosscoder({
    config: { dIn: store.dIn, hookName: store.manifest.hook, ...opts.config, kind: opts.kind },
    source: store.source(opts.train),
    outDir: dir,
    ...(opts.onStep ? { onStep: (state: { step: number }) => void opts.onStep!(state.step) } : {}),
  });
  const rel = relativeDecoderNorms(crosscoder);
  const bands = latentsByBand(rel);
  const leaning = Array.from(rel.keys())
    .filter((j) => !Number.isNaN(rel[j]!))
    .sort((a, b) => rel[b]! - rel[a]! || a - b)
    .slice(0, opts.chatLeaning ?? 10);
  const scored = [...new Set([...bands["chat-only"], ...leaning])];
  const scaling = await latentScaling(crosscoder, store.source({ batchSize: opts.train.batchSize }), scored);
  const latents = scaling.map((s) => {
    const d = crosscoder.decoderRow(s.latent, "chat");
    const n = Math.hypot(...d) || 1;
    return {
      latent: s.latent,
      relativeNorm: rel[s.latent]!,
      band: normBand(rel[s.latent]!),
      count: s.count,
      nuReconstruction: s.nuReconstruction,
      nuError: s.nuError,
      chatSpecific: isChatSpecific(s),
      chatDirection: Float32Array.from(d, (v) => v / n),
    };
  });
  writeJsonAtomic(path.join(dir, "analysis.json"), {
    kind: opts.kind,
    crosscoder: finalDir === null ? null : path.relative(dir, finalDir),
    histogram: relativeNormHistogram(rel),
    bandCounts: Object.fromEntries(Object.entries(bands).map(([k, v]) => [k, v.length])),
    latents: latents.map(({ chatDirection, ...rest }) => rest),
  });
  const stacked = new Float32Array(latents.length * store.dIn);
  for (const [i, l] of latents.entries()) stacked.set(l.chatDirection, i * store.dIn);
  await writeSafetensors(path.join(dir, "latents.safetensors"), {
    chat_directions: new Tensor("f32", [latents.length, store.dIn], stacked),
  });
  return latents;
}
