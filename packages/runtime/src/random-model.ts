import { f32ArrayToBf16, f32ArrayToF16, Rng, randn, Tensor } from "@difflens/tensor";
import { bindQwen2Weights, mapSource, qwen2WeightShapes } from "./architectures/qwen2-weights.ts";
import { type Qwen2Config, resolveQwen2Config } from "./config/qwen2-config.ts";
import { ConfigError } from "./errors.ts";
import { type SaveModelOptions, saveModelFolder } from "./loading/save-model.ts";
import { Model } from "./model.ts";

export interface RandomQwen2Options {
  /** A resolved config, or our camelCase input (see resolveQwen2Config). */
  readonly config: Qwen2Config | Record<string, unknown>;
  /** Same seed → same weights on every machine (tensor `Rng`, one forked stream per tensor name). */
  readonly seed: number;
  /** Storage dtype of the weights (default "f32"). */
  readonly dtype?: "f32" | "bf16" | "f16";
}

/**
 * Init scales (std of each tensor), chosen so activations look like a trained model's through 2–8+ layers:
 * projections read unit-RMS inputs with std 1/√fanIn (q, k, v, gate, up ≈ unit scale, attention neither
 * uniform nor one-hot), output projections (o, down) are shrunk by √(2/nLayers) so the residual stream grows
 * to O(1) without exploding, the embedding is small (3/√dModel, so tied logits have std ≈ 3), norms are
 * 1 + N(0, 0.1) and q/k/v biases N(0, 0.3) so a wrongly applied norm weight or bias shows up in tests.
 */
function initStd(name: string, shape: readonly number[], c: Qwen2Config): { std: number; mean: number } {
  const fanIn = shape[shape.length - 1]!;
  const outScale = Math.sqrt(2 / c.nLayers);
  if (name.endsWith("layernorm.weight") || name === "model.norm.weight") return { std: 0.1, mean: 1 };
  if (name.endsWith(".bias")) return { std: 0.3, mean: 0 };
  if (name === "model.embed_tokens.weight" || name === "lm_head.weight")
    return { std: 3 / Math.sqrt(c.dModel), mean: 0 };
  if (name.endsWith("o_proj.weight") || name.endsWith("down_proj.weight"))
    return { std: outScale / Math.sqrt(fanIn), mean: 0 };
  return { std: 1 / Math.sqrt(fanIn), mean: 0 };
}

/** The HF-named weights of a random Qwen2 (in the asked dtype), deterministic from the seed. */
export function randomQwen2Weights(
  config: Qwen2Config,
  seed: number,
  dtype: "f32" | "bf16" | "f16" = "f32",
): Map<string, Tensor> {
  const root = new Rng(seed);
  const out = new Map<string, Tensor>();
  for (const [name, shape] of qwen2WeightShapes(config)) {
    const { std, mean } = initStd(name, shape, config);
    const values = randn(shape, root.fork(name), std).data as Float32Array;
    if (mean !== 0) for (let i = 0; i < values.length; i++) values[i]! += mean;
    if (dtype === "f32") out.set(name, new Tensor("f32", shape, values));
    else if (dtype === "bf16") out.set(name, new Tensor("bf16", shape, f32ArrayToBf16(values)));
    else out.set(name, new Tensor("f16", shape, f32ArrayToF16(values)));
  }
  return out;
}

/** A random in-memory Qwen2 model (see `initStd` for the scales). */
export function createRandomQwen2(opts: RandomQwen2Options): Model {
  const config =
    "architecture" in opts.config && Object.isFrozen(opts.config)
      ? (opts.config as Qwen2Config)
      : resolveQwen2Config(opts.config);
  const dtype = opts.dtype ?? "f32";
  if (!["f32", "bf16", "f16"].includes(dtype))
    throw new ConfigError(
      "CONFIG_INVALID_FIELD",
      `createRandomQwen2: dtype must be f32, bf16 or f16, got ${String(dtype)}`,
      { field: "dtype", got: dtype },
    );
  if (!Number.isInteger(opts.seed))
    throw new ConfigError("CONFIG_INVALID_FIELD", `createRandomQwen2: seed must be an integer, got ${opts.seed}`, {
      field: "seed",
      got: opts.seed,
    });
  const tensors = randomQwen2Weights(config, opts.seed, dtype);
  const weights = bindQwen2Weights(config, mapSource(tensors, `random Qwen2 (seed ${opts.seed})`));
  return new Model({ config, weights, dtype });
}

/** Writes a random Qwen2 as a real HF folder (config.json, model.safetensors, generation_config.json); returns dir. */
export async function writeRandomQwen2Folder(
  dir: string,
  opts: RandomQwen2Options & SaveModelOptions,
): Promise<string> {
  await saveModelFolder(createRandomQwen2(opts), dir, { ...opts, tokenizerFrom: opts.tokenizerFrom ?? null });
  return dir;
}
