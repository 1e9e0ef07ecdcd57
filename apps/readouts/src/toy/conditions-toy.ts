/**
 * The embedded toy of `sae-conditions` and `steer` (placeholder: the toy's author replaces the body, keeping the
 * interface). A small Qwen2-architecture model from a seed; one condition's system prompt planted, as a PEFT LoRA,
 * to write a known direction u at later positions; one SAE per layer whose dictionary holds u.
 */
export interface ConditionsToy {
  /** HF-style model folder of the unplanted base (config.json, model.safetensors, tokenizer files). */
  readonly modelDir: string;
  /** PEFT adapter folder (adapter_config.json + adapter_model.safetensors): base + adapter = the planted model. */
  readonly adapterDir: string;
  /** One SAE folder per layer (a format @difflens/sae reads), keyed by layer index. */
  readonly saeDirs: Readonly<Record<number, string>>;
  readonly layers: readonly number[];
  /** Condition labels as the config writes them, e.g. "model-default", "custom:You are a helpful assistant.". */
  readonly conditions: readonly string[];
  /** The label of the condition whose system prompt carries the plant. */
  readonly plantedCondition: string;
  /** The latent whose decoder direction is u, the same index in every layer's SAE. */
  readonly uLatent: number;
  /** Ten latents whose decoder directions are orthogonal to u (Track A's negative control). */
  readonly orthogonalLatents: readonly number[];
  /** The planted direction u [dModel], unit norm. */
  readonly u: Float32Array;
  readonly seed: number;
}

export interface ConditionsToyOptions {
  readonly seed: number;
}

/** Writes the toy's files under `dir` (idempotent for the same seed) and describes them. */
export async function writeConditionsToy(dir: string, options: ConditionsToyOptions): Promise<ConditionsToy> {
  throw new Error(`writeConditionsToy(${dir}, seed ${options.seed}): the toy is not built yet`);
}
