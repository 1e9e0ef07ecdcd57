import * as path from "node:path";
import { checkOutputOutside, checkOutputPath, sha256File, writeFolderAtomic } from "@difflens/common";
import { type LineageEntry, loadCheckpoint, writeCheckpointWeights } from "../checkpoint.ts";
import { SaeError } from "../errors.ts";
import { Sae } from "../sae.ts";
import { resolveSaeTrainConfig } from "../train/config.ts";
import {
  detectSaeFormat,
  type LoadSaeOptions,
  loadSae,
  SAE_WEIGHTS_FILE,
  type SaeFormat,
  writeSaeLens,
  writeSparsify,
} from "./formats.ts";

/** What `convertSae` writes: a sparsify folder, a SAELens folder, or our checkpoint layout (finetunable). */
export type ConvertTarget = "sparsify" | "saelens" | "difflens";
export const CONVERT_TARGETS: readonly ConvertTarget[] = Object.freeze(["sparsify", "saelens", "difflens"]);

export interface ConvertOptions extends LoadSaeOptions {
  /** Replace an occupied `dst` (still written beside it and swapped in whole). Default false: OUTPUT_EXISTS. */
  force?: boolean;
}

export interface ConvertResult {
  from: SaeFormat;
  to: ConvertTarget;
  dIn: number;
  dSae: number;
  k: number;
  /** `to: "difflens"`: sha256 of the source's weights file, as recorded in the lineage. */
  sourceSha256?: string;
  /** What the target cannot hold exactly, when anything. */
  note?: string;
}

/**
 * Converts an SAE folder of any readable format into a sparsify folder, a SAELens folder or one of our checkpoint
 * folders (cfg.json with a difflens block whose lineage records the source's format, path and weights sha256; a
 * finetune can start from it with a reset optimizer). TopK-family SAEs only (BatchTopK is written as TopK with its k:
 * the threshold is dropped and reported). `dst` must be empty or absent unless `force`, and never overlaps `src`;
 * it is written beside itself and swapped in whole. Returns what was read and written.
 */
export async function convertSae(
  src: string,
  dst: string,
  to: ConvertTarget,
  opts: ConvertOptions = {},
): Promise<ConvertResult> {
  const { force = false, ...loadOptions } = opts;
  checkOutputOutside(dst, [src]);
  checkOutputPath(dst, { force });
  const from = detectSaeFormat(src);
  const sae = await loadSae(src, { ...loadOptions, batchTopKUseThreshold: false });
  const act = sae.activation;
  if (act.kind !== "topk" && act.kind !== "batchtopk") {
    const why = `${src}: only TopK-family SAEs convert to ${to}; this one is ${act.kind}`;
    throw new SaeError("UNSUPPORTED_ARCHITECTURE", why, { file: src });
  }
  const norm = sae.inputNormalization;
  if (norm !== "none") {
    const why = `${src}: input normalisation "${norm}" cannot be written as ${to} (it needs none)`;
    throw new SaeError("UNSUPPORTED_ARCHITECTURE", why, { file: src, field: "normalize_activations", got: norm });
  }
  const activation = { kind: "topk", k: act.k } as const;
  const topk = new Sae({ dIn: sae.dIn, dSae: sae.dSae, activation, hookName: sae.hookName }, bDecSubtracted(sae));
  let sourceSha256: string | undefined;
  if (to === "difflens") {
    sourceSha256 = sha256File(path.join(src, SAE_WEIGHTS_FILE[from]));
    const lineage = await lineageOfSource(src, from, sourceSha256);
    await writeFolderAtomic(dst, (dir) => writeDifflens(dir, topk, lineage), { force });
  } else {
    const write = to === "sparsify" ? writeSparsify : writeSaeLens;
    await writeFolderAtomic(dst, (dir) => write(dir, topk), { force });
  }
  const note =
    act.kind === "batchtopk"
      ? `BatchTopK threshold ${act.threshold} not representable; written as per-row top-${act.k}`
      : undefined;
  return {
    from,
    to,
    dIn: sae.dIn,
    dSae: sae.dSae,
    k: act.k,
    ...(sourceSha256 ? { sourceSha256 } : {}),
    ...(note ? { note } : {}),
  };
}

/**
 * The weights of `sae` for an encoder that subtracts bDec from its input, as sparsify and our layout do. A SAELens
 * SAE with apply_b_dec_to_input false computes x·W_encᵀ + b_enc = (x − b_dec)·W_encᵀ + (b_enc + W_enc·b_dec).
 */
function bDecSubtracted(sae: Sae): Sae["weights"] {
  const { wEnc, bEnc, wDec, bDec } = sae.weights;
  if (sae.applyBDecToInput) return sae.weights;
  const folded = Float32Array.from(bEnc);
  for (let j = 0; j < sae.dSae; j++) {
    let dot = 0;
    for (let i = 0; i < sae.dIn; i++) dot += wEnc[j * sae.dIn + i]! * bDec[i]!;
    folded[j] = bEnc[j]! + dot;
  }
  return { wEnc, bEnc: folded, wDec, bDec };
}

/** The converted checkpoint's ancestors: the source folder, then (for one of ours) its own lineage. */
async function lineageOfSource(src: string, format: SaeFormat, sha256: string): Promise<LineageEntry[]> {
  const entry: LineageEntry = { path: path.resolve(src), sha256, step: 0, tokensSeen: 0, format };
  if (format !== "difflens") return [entry];
  const { block } = await loadCheckpoint(src);
  return [{ ...entry, step: block.step, tokensSeen: block.tokensSeen }, ...block.lineage];
}

/** Our checkpoint layout without a training state: a finetune from it starts a fresh optimizer. */
async function writeDifflens(dir: string, sae: Sae, lineage: LineageEntry[]): Promise<void> {
  const act = sae.activation;
  if (act.kind !== "topk") {
    throw new SaeError("UNSUPPORTED_ARCHITECTURE", `difflens checkpoints hold TopK SAEs; this one is ${act.kind}`);
  }
  const cfg = resolveSaeTrainConfig({ dIn: sae.dIn, dSae: sae.dSae, k: act.k, hookName: sae.hookName || null });
  await writeCheckpointWeights(dir, sae.weights, cfg, { lineage, step: 0, tokensSeen: 0, inputScale: 1 });
}
