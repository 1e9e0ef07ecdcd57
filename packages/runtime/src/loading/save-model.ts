import * as fs from "node:fs";
import * as path from "node:path";
import { writeJsonAtomic } from "@difflens/common";
import { cast, type Tensor, writeShardedCheckpoint } from "@difflens/tensor";
import type { Model } from "../model.ts";

/** Tokenizer files copied along when the model came from a folder. */
export const TOKENIZER_FILES = Object.freeze([
  "tokenizer.json",
  "tokenizer_config.json",
  "vocab.json",
  "merges.txt",
  "special_tokens_map.json",
  "added_tokens.json",
]);

export interface SaveModelOptions {
  /** Shard above this many bytes (transformers' default 5 GB). */
  readonly maxShardBytes?: number;
  /** Copy tokenizer files from this folder (default: the folder the model was loaded from). */
  readonly tokenizerFrom?: string | null;
}

const TORCH_DTYPE = { f32: "float32", bf16: "bfloat16", f16: "float16" } as const;

/**
 * Saves a model of any family as an HF folder any loader reads (names and config.json from its family): config.json, model.safetensors (or shards + index),
 * generation_config.json, tokenizer files. Tensors keep the model's dtype (f32 biases are cast back to it).
 * Each file is written atomically.
 */
export async function saveModelFolder(model: Model, dir: string, opts: SaveModelOptions = {}): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  const dtype = model.dtype === "bf16" || model.dtype === "f16" ? model.dtype : "f32";
  const tensors = new Map<string, Tensor>();
  for (const [name, t] of model.family.weightEntries(model.config, model.hostWeights))
    tensors.set(name, t.dtype === dtype ? t : cast(t, dtype));
  await writeShardedCheckpoint(dir, tensors, {
    maxShardBytes: opts.maxShardBytes ?? 5_000_000_000,
    metadata: { format: "pt" },
  });
  const hfConfig = { ...model.family.configToHf(model.config), torch_dtype: TORCH_DTYPE[dtype] };
  writeJsonAtomic(path.join(dir, "config.json"), hfConfig);
  const gen = model.generation;
  const eos = gen.eosTokenIds;
  writeJsonAtomic(path.join(dir, "generation_config.json"), {
    ...(model.config.bosTokenId !== null ? { bos_token_id: model.config.bosTokenId } : {}),
    ...(eos.length > 0 ? { eos_token_id: eos.length === 1 ? eos[0] : [...eos] } : {}),
    ...(gen.padTokenId !== null ? { pad_token_id: gen.padTokenId } : {}),
    ...(gen.temperature !== null ? { temperature: gen.temperature } : {}),
    ...(gen.topP !== null ? { top_p: gen.topP } : {}),
  });
  const from = opts.tokenizerFrom === undefined ? model.folder : opts.tokenizerFrom;
  if (from && path.resolve(from) !== path.resolve(dir)) {
    for (const f of TOKENIZER_FILES) {
      const src = path.join(from, f);
      if (fs.existsSync(src)) fs.copyFileSync(src, path.join(dir, f));
    }
  }
}
