/**
 * Random models of any family, deterministic from a seed: every HF tensor the family needs, drawn at the family's
 * init scales (`initStd`), bound through the family's own weight binder. Qwen2's names stay as aliases.
 */
import { f32ArrayToBf16, f32ArrayToF16, Rng, randn, Tensor } from "@difflens/tensor";
import { ConfigError } from "./errors.ts";
import type { DecoderConfig, ModelFamily } from "./families/model-family.ts";
import type { Qwen2Config } from "./families/qwen2/qwen2-config.ts";
import type { Qwen2Weights } from "./families/qwen2/qwen2-weights.ts";
import { familyByName, supportedFamilies } from "./families/registry.ts";
import { type SaveModelOptions, saveModelFolder } from "./loading/save-model.ts";
import { Model } from "./model.ts";
import { mapSource } from "./tensor-source.ts";

export interface RandomModelOptions {
  /**
   * A resolved config, or our camelCase input with `architecture` naming the family ("qwen2", …; see the family's
   * resolveConfig for its fields).
   */
  readonly config: DecoderConfig | Readonly<Record<string, unknown>>;
  /** Same seed → same weights on every machine (tensor `Rng`, one forked stream per tensor name). */
  readonly seed: number;
  /** Storage dtype of the weights (default "f32"). */
  readonly dtype?: "f32" | "bf16" | "f16";
}

export interface RandomQwen2Options extends RandomModelOptions {
  /** A resolved config, or our camelCase input (see resolveQwen2Config); `architecture` defaults to "qwen2". */
  readonly config: Qwen2Config | Record<string, unknown>;
}

/** The family and resolved config of a random model's config input. */
function resolveRandomConfig(input: RandomModelOptions["config"], caller: string): [ModelFamily, DecoderConfig] {
  const architecture = (input as { architecture?: unknown }).architecture;
  if (typeof architecture !== "string") {
    const names = supportedFamilies().map((f) => f.name);
    throw new ConfigError(
      "CONFIG_MISSING_FIELD",
      `${caller}: config.architecture must name the family (one of ${names.join(", ")})`,
      { field: "architecture", got: architecture, expected: names },
    );
  }
  const family = familyByName(architecture);
  const resolved = Object.isFrozen(input)
    ? (input as DecoderConfig)
    : family.resolveConfig(input as Readonly<Record<string, unknown>>);
  return [family, resolved];
}

/** The HF-named weights of a random model of the config's family (in the asked dtype), deterministic from the seed. */
export function randomWeights(
  config: DecoderConfig,
  seed: number,
  dtype: "f32" | "bf16" | "f16" = "f32",
): Map<string, Tensor> {
  const family = familyByName(config.architecture);
  const root = new Rng(seed);
  const out = new Map<string, Tensor>();
  for (const [name, shape] of family.weightShapes(config)) {
    const { std, mean } = family.initStd(name, shape, config);
    const values = randn(shape, root.fork(name), std).data as Float32Array;
    if (mean !== 0) for (let i = 0; i < values.length; i++) values[i]! += mean;
    if (dtype === "f32") out.set(name, new Tensor("f32", shape, values));
    else if (dtype === "bf16") out.set(name, new Tensor("bf16", shape, f32ArrayToBf16(values)));
    else out.set(name, new Tensor("f16", shape, f32ArrayToF16(values)));
  }
  return out;
}

/** The HF-named weights of a random Qwen2 (the Qwen2 name of `randomWeights`). */
export function randomQwen2Weights(
  config: Qwen2Config,
  seed: number,
  dtype: "f32" | "bf16" | "f16" = "f32",
): Map<string, Tensor> {
  return randomWeights(config, seed, dtype);
}

function checkedRandomModel(opts: RandomModelOptions, caller: string): Model {
  const [family, config] = resolveRandomConfig(opts.config, caller);
  const dtype = opts.dtype ?? "f32";
  if (!["f32", "bf16", "f16"].includes(dtype))
    throw new ConfigError("CONFIG_INVALID_FIELD", `${caller}: dtype must be f32, bf16 or f16, got ${String(dtype)}`, {
      field: "dtype",
      got: dtype,
    });
  if (!Number.isInteger(opts.seed))
    throw new ConfigError("CONFIG_INVALID_FIELD", `${caller}: seed must be an integer, got ${opts.seed}`, {
      field: "seed",
      got: opts.seed,
    });
  const tensors = randomWeights(config, opts.seed, dtype);
  const weights = family.bindWeights(config, mapSource(tensors, `random ${family.name} (seed ${opts.seed})`));
  return new Model({ config, weights, dtype, family });
}

/** A random in-memory model of any family (`config.architecture` names it; init scales: the family's `initStd`). */
export function createRandomModel(opts: RandomModelOptions): Model {
  return checkedRandomModel(opts, "createRandomModel");
}

/** A random in-memory Qwen2 model (see `qwen2InitStd` for the scales). */
export function createRandomQwen2(opts: RandomQwen2Options): Model<Qwen2Config, Qwen2Weights> {
  const model = checkedRandomModel({ ...opts, config: withQwen2(opts.config) }, "createRandomQwen2");
  return model as unknown as Model<Qwen2Config, Qwen2Weights>;
}

/** Writes a random model as a real HF folder (config.json, model.safetensors, generation_config.json); returns dir. */
export async function writeRandomModelFolder(
  dir: string,
  opts: RandomModelOptions & SaveModelOptions,
): Promise<string> {
  await saveModelFolder(createRandomModel(opts), dir, { ...opts, tokenizerFrom: opts.tokenizerFrom ?? null });
  return dir;
}

/** Writes a random Qwen2 as a real HF folder (the Qwen2 name of `writeRandomModelFolder`). */
export async function writeRandomQwen2Folder(
  dir: string,
  opts: RandomQwen2Options & SaveModelOptions,
): Promise<string> {
  return writeRandomModelFolder(dir, { ...opts, config: withQwen2(opts.config) });
}

/** Qwen2's input: `architecture` may be left out (it was before there were families). */
function withQwen2(config: RandomQwen2Options["config"]): RandomModelOptions["config"] {
  if ("architecture" in config) return config;
  return { ...config, architecture: "qwen2" };
}
