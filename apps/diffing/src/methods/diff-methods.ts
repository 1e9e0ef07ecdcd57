/**
 * The two difference methods on one paired store, written to a folder that a methods report reads:
 *   <out>/adl/adl.json                   hook, store, buckets [{name, rows, norm, cosineToLeading, lens}], leading
 *                                        {explained, lens, file}; lens = the chat model's logit-lens top tokens
 *   <out>/adl/adl-<bucket>.safetensors   steering vectors (`readouts steer` directionFile) of the `all` and
 *                                        `assistant` buckets (those with rows), unnormalised mean differences
 *   <out>/adl/leading.safetensors        the leading direction, unit norm
 *   <out>/diff-sae/                      the trainer's run folder (its last checkpoint is the SAE)
 *   <out>/diff-sae/top-latents.json      sae (that checkpoint, relative), [{latent, frequency, meanActivation,
 *                                        mass, cosineToAdl}], bias {norm, cosineToAdl}
 *   <out>/diff-sae/top-latents.safetensors  directions F32 [topN, dIn] (row i = top latent i), bias F32 [dIn]
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { writeJsonAtomic } from "@difflens/common";
import type { Model } from "@difflens/runtime";
import { Tensor, writeSafetensors } from "@difflens/tensor";
import { cosine } from "../compare/leading-direction.ts";
import { activationDifferenceLens, adlLogitLens, writeAdlSteeringVector } from "./adl.ts";
import { trainDiffSae } from "./diff-sae.ts";
import type { PairedStore } from "./paired-store.ts";

export interface DiffMethodsOptions {
  readonly store: PairedStore;
  /** The chat model: its final norm and unembedding are the ADL's lens. */
  readonly chat: Model;
  readonly outDir: string;
  /** SaeTrainConfig input of the diff-SAE (dIn is filled in). */
  readonly diffSae: Record<string, unknown>;
  /** Diff-SAE training batches: rows per batch, passes over the store, shuffle seed. */
  readonly train: { readonly batchSize: number; readonly epochs: number; readonly seed: number };
  readonly firstPositions?: number;
  readonly topLatents?: number;
  readonly lensTokens?: number;
  readonly decode?: (id: number) => string;
  /** Called after every diff-SAE training step (progress; the first call also marks the end of the ADL). */
  readonly onStep?: (step: number) => void;
}

export interface DiffMethodsSummary {
  /** Leading ADL direction (unit). */
  readonly adlLeading: Float32Array;
  /** Unit decoder directions of the diff-SAE's top latents, largest mass first. */
  readonly diffSaeTop: { latent: number; direction: Float32Array }[];
}

export async function runDiffMethods(opts: DiffMethodsOptions): Promise<DiffMethodsSummary> {
  const { store, chat } = opts;
  const names = { base: store.manifest.base, chat: store.manifest.chat };
  const lensOf = (v: Float32Array) => adlLogitLens(chat, v, opts.lensTokens ?? 20, opts.decode);

  const adlDir = path.join(opts.outDir, "adl");
  fs.mkdirSync(adlDir, { recursive: true });
  const adl = await activationDifferenceLens(store, { firstPositions: opts.firstPositions ?? 5 });
  const files: string[] = [];
  for (const bucket of ["all", "assistant"])
    if (adl.buckets.some((b) => b.name === bucket && b.rows > 0)) {
      const file = `adl-${bucket}.safetensors`;
      await writeAdlSteeringVector(path.join(adlDir, file), adl, bucket, names);
      files.push(file);
    }
  await writeSafetensors(
    path.join(adlDir, "leading.safetensors"),
    { direction: new Tensor("f32", [adl.leading.length], adl.leading.slice()) },
    { format: "difflens-adl-direction", hook: adl.hook, bucket: "leading", ...names },
  );
  const buckets = [];
  for (const b of adl.buckets)
    buckets.push({
      name: b.name,
      rows: b.rows,
      norm: b.norm,
      cosineToLeading: b.rows > 0 ? cosine(b.mean, adl.leading) : null,
      lens: b.rows > 0 ? await lensOf(b.mean) : [],
    });
  writeJsonAtomic(path.join(adlDir, "adl.json"), {
    hook: adl.hook,
    store: store.dir,
    ...names,
    buckets,
    leading: { explained: adl.explained, lens: await lensOf(adl.leading), file: "leading.safetensors" },
    steeringVectors: files,
  });

  const saeDir = path.join(opts.outDir, "diff-sae");
  const { top, bias, finalDir } = await trainDiffSae({
    train: store.source(opts.train),
    evaluate: store.source({ batchSize: opts.train.batchSize }),
    config: { hookName: store.manifest.hook, ...opts.diffSae },
    outDir: saeDir,
    topN: opts.topLatents ?? 20,
    ...(opts.onStep ? { onStep: opts.onStep } : {}),
  });
  writeJsonAtomic(path.join(saeDir, "top-latents.json"), {
    sae: finalDir === null ? null : path.relative(saeDir, finalDir),
    rankedBy: "mass = Σ activation × ‖W_dec row‖ / rows, over one pass of the store's chat − base",
    bias: { norm: bias.norm, cosineToAdl: cosine(bias.direction, adl.leading) },
    latents: top.map(({ direction, ...rest }) => ({ ...rest, cosineToAdl: cosine(direction, adl.leading) })),
  });
  const stacked = new Float32Array(top.length * store.dIn);
  for (const [i, l] of top.entries()) stacked.set(l.direction, i * store.dIn);
  await writeSafetensors(path.join(saeDir, "top-latents.safetensors"), {
    directions: new Tensor("f32", [top.length, store.dIn], stacked),
    bias: new Tensor(
      "f32",
      [store.dIn],
      bias.direction.map((v) => v * bias.norm),
    ),
  });
  return { adlLeading: adl.leading, diffSaeTop: top.map((l) => ({ latent: l.latent, direction: l.direction })) };
}
