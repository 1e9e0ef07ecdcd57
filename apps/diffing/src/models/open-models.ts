/**
 * The base and chat models of a pipeline (app-kit's model pair): the configured folders, or the generated toy pair,
 * whose chat model is the base with the planted PEFT LoRA merged in (or the base itself for the control).
 */
import * as path from "node:path";
import { type ModelPair, openModelPair } from "@difflens/app-kit";
import { ParquetDataset, textRows } from "@difflens/data";
import type { DiffingConfig } from "../config/diffing-config.ts";
import { ensureToyFiles } from "../toy/toy-files.ts";

export interface PipelineModels extends ModelPair {
  /** The toy's planted direction u, when the models are the toy pair with its plant. */
  readonly planted: Float32Array | null;
}

export async function openPipelineModels(config: DiffingConfig, log: (line: string) => void): Promise<PipelineModels> {
  if (config.toy === null) return { ...(await openModelPair(config.baseModel!, config.chatModel!)), planted: null };
  const toy = config.toy;
  const calibrationTexts = async function* () {
    const ds = await ParquetDataset.open(config.textData.files);
    yield* textRows(ds, config.textData.column, { shuffle: false, seed: 0 });
  };
  const { seed, plantScale, cacheDir } = toy;
  const files = await ensureToyFiles({ seed, plantScale, cacheDir, calibrationTexts, log });
  const base = { path: files.baseDir, adapter: null };
  const pair = await openModelPair(base, toy.plant ? { ...base, adapter: files.adapterDir } : base);
  const rel = (p: string) => path.relative(config.runDir, p);
  const chat = toy.plant ? `toy base + LoRA ${rel(files.adapterDir)}` : "toy base (control: no plant)";
  const describe = { base: `toy base ${rel(files.baseDir)}`, chat };
  return { ...pair, describe, planted: toy.plant ? files.planted : null };
}
