import * as fs from "node:fs";
import * as path from "node:path";
import { type DType, openCheckpoint } from "@difflens/tensor";
import { ConfigError } from "../errors.ts";
import type { DecoderConfig } from "../families/model-family.ts";
import { familyByName, familyForHfConfig } from "../families/registry.ts";
import { type GenerationDefaults, Model } from "../model.ts";
import type { TensorSource } from "../tensor-source.ts";
import { type HubCacheOptions, resolveModelFolder } from "./model-folder.ts";

/** `cacheDir`, `env` and `home` locate the Hub cache for `ORG/NAME` (as `loadTokenizer` does). */
export interface LoadModelOptions extends HubCacheOptions {
  /** Memory-map the safetensors (default true; falls back to positional reads without the native add-on). */
  readonly mmap?: boolean;
  /** Hub revision when `source` is a cache folder or `ORG/NAME`. */
  readonly revision?: string;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new ConfigError("CONFIG_INVALID_FIELD", `${file}: not valid JSON (${(e as Error).message})`, { file });
  }
}

/**
 * config.json of a model folder, validated by its family's reader (chosen by model_type, else architectures; an
 * unsupported model names the supported families). Errors name the file and field.
 */
export function readModelConfig(folder: string): DecoderConfig {
  const file = path.join(folder, "config.json");
  if (!fs.existsSync(file)) throw new ConfigError("CONFIG_MISSING_FIELD", `${folder}: no config.json`, { file });
  const json = readJson(file);
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw new ConfigError("CONFIG_INVALID_FIELD", `${file}: expected a JSON object`, { file });
  return familyForHfConfig(json as Record<string, unknown>, file).configFromHf(json as Record<string, unknown>, file);
}

/** generation_config.json (when present) over config.json's eos; stop tokens must be inside the vocabulary. */
export function readGenerationDefaults(folder: string, config: DecoderConfig): GenerationDefaults {
  const file = path.join(folder, "generation_config.json");
  const base: GenerationDefaults = { eosTokenIds: config.eosTokenIds, padTokenId: null, temperature: null, topP: null };
  if (!fs.existsSync(file)) return base;
  const json = readJson(file) as Record<string, unknown>;
  const eos =
    json.eos_token_id === undefined
      ? [...config.eosTokenIds]
      : Array.isArray(json.eos_token_id)
        ? json.eos_token_id
        : [json.eos_token_id];
  for (const id of eos) {
    if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id >= config.vocabSize) {
      throw new ConfigError(
        "CONFIG_CONTRADICTION",
        `${file}: eos_token_id ${JSON.stringify(id)} is outside the vocabulary [0, ${config.vocabSize})`,
        { file, field: "eos_token_id", got: id },
      );
    }
  }
  const num = (v: unknown): number | null => (typeof v === "number" ? v : null);
  return {
    eosTokenIds: eos as number[],
    padTokenId: num(json.pad_token_id),
    temperature: num(json.temperature),
    topP: num(json.top_p),
  };
}

/**
 * Loads an HF model folder of any registered family (or Hub cache snapshot, or `ORG/NAME[@rev]` from the cache): the
 * config picks the family, whose binder reads the weights. Everything is checked
 * before any compute: config fields, every weight's presence, dtype and shape. Weights stay in their stored dtype,
 * memory-mapped when the native add-on is available.
 */
export async function loadModel(source: string, opts: LoadModelOptions = {}): Promise<Model> {
  const folder = resolveModelFolder(source, opts);
  const config = readModelConfig(folder);
  const generation = readGenerationDefaults(folder, config);
  const checkpoint = await openCheckpoint(folder, { mmap: opts.mmap ?? true });
  try {
    const src: TensorSource = {
      source: checkpoint.source,
      keys: () => checkpoint.keys(),
      has: (n) => checkpoint.has(n),
      info: (n) => {
        const i = checkpoint.info(n);
        return { dtype: String(i.dtype), shape: i.shape };
      },
      get: (n) => checkpoint.get(n),
    };
    const family = familyByName(config.architecture);
    const weights = family.bindWeights(config, src);
    const dtype = weights.embedTokens.dtype as DType;
    return new Model({ config, weights, family, dtype, generation, folder, close: () => checkpoint.close() });
  } catch (e) {
    checkpoint.close();
    throw e;
  }
}
