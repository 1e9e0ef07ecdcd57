import { ConfigError } from "../../errors.ts";
import {
  checkDecoderConsistent,
  DECODER_KEYS,
  hfDecoderFields,
  isRecord,
  positiveNumber,
  rejectUnknownKeys,
  resolveDecoderFields,
} from "../decoder-config-fields.ts";
import type { DecoderConfig } from "../model-family.ts";

/** The architecture parameters of a Qwen2-family decoder (Qwen1.5, Qwen2, Qwen2.5), in our names. */
export interface Qwen2Config extends DecoderConfig {
  /** Architecture family; the config decides, not the checkpoint's name. */
  readonly architecture: "qwen2";
  /** RoPE base frequency. HF `rope_theta`. */
  readonly ropeTheta: number;
}

/** Frozen defaults for fields HF configs may omit. */
export const QWEN2_DEFAULTS = Object.freeze({
  rmsNormEps: 1e-6,
  ropeTheta: 10000,
  tieWordEmbeddings: false,
  maxPositions: 32768,
  bosTokenId: null as number | null,
  eosTokenIds: Object.freeze([]) as readonly number[],
});

const OUR_KEYS: readonly string[] = [...DECODER_KEYS, "ropeTheta"];

/**
 * Validates a Hugging Face `config.json` object and maps it to a `Qwen2Config`. Unknown HF keys are ignored
 * (HF configs carry many); missing or contradictory architecture fields are errors naming the field.
 */
export function qwen2ConfigFromHf(json: unknown, file = "config.json"): Qwen2Config {
  if (!isRecord(json)) throw new ConfigError("CONFIG_INVALID_FIELD", `${file}: expected a JSON object`, { file });
  const modelType = json.model_type;
  const archs = Array.isArray(json.architectures) ? json.architectures : [];
  if (modelType !== "qwen2" && !(modelType === undefined && archs.includes("Qwen2ForCausalLM"))) {
    throw new ConfigError(
      "UNSUPPORTED_ARCHITECTURE",
      `${file}: model_type ${JSON.stringify(modelType)} (architectures ${JSON.stringify(archs)}) is not a Qwen2 config (qwen2: Qwen2ForCausalLM: Qwen1.5, Qwen2, Qwen2.5); familyForHfConfig picks the family`,
      { file, field: "model_type", got: modelType, expected: "qwen2" },
    );
  }
  const shared = hfDecoderFields(json, file, "qwen2", QWEN2_DEFAULTS);
  const act = json.hidden_act ?? "silu";
  if (act !== "silu") {
    throw new ConfigError("CONFIG_CONTRADICTION", `${file}: hidden_act "${String(act)}" — Qwen2 uses "silu"`, {
      file,
      field: "hidden_act",
      got: act,
      expected: "silu",
    });
  }
  if (json.rope_scaling !== undefined && json.rope_scaling !== null) {
    throw new ConfigError(
      "UNSUPPORTED_FEATURE",
      `${file}: rope_scaling ${JSON.stringify(json.rope_scaling)} is not supported yet (only plain RoPE)`,
      { file, field: "rope_scaling", got: json.rope_scaling },
    );
  }
  if (json.use_sliding_window === true) {
    const window = json.sliding_window;
    if (typeof window !== "number" || window < shared.maxPositions) {
      throw new ConfigError(
        "UNSUPPORTED_FEATURE",
        `${file}: use_sliding_window is true with sliding_window ${JSON.stringify(window)} < max_position_embeddings ${shared.maxPositions}; sliding-window attention is not supported`,
        { file, field: "use_sliding_window" },
      );
    }
  }
  const ropeTheta =
    json.rope_theta === undefined ? QWEN2_DEFAULTS.ropeTheta : positiveNumber(json.rope_theta, "rope_theta", file);
  return checkDecoderConsistent({ ...shared, architecture: "qwen2", ropeTheta }, file);
}

/** The HF `config.json` object for a config (what `saveModelFolder` writes, adding `torch_dtype` when not given). */
export function qwen2ConfigToHf(
  c: Qwen2Config,
  torchDtype?: "float32" | "bfloat16" | "float16",
): Record<string, unknown> {
  return {
    architectures: ["Qwen2ForCausalLM"],
    model_type: "qwen2",
    vocab_size: c.vocabSize,
    hidden_size: c.dModel,
    intermediate_size: c.dMlp,
    num_hidden_layers: c.nLayers,
    num_attention_heads: c.nHeads,
    num_key_value_heads: c.nKvHeads,
    ...(c.dHead !== c.dModel / c.nHeads ? { head_dim: c.dHead } : {}),
    hidden_act: "silu",
    max_position_embeddings: c.maxPositions,
    rms_norm_eps: c.rmsNormEps,
    rope_theta: c.ropeTheta,
    rope_scaling: null,
    tie_word_embeddings: c.tieWordEmbeddings,
    use_sliding_window: false,
    attention_dropout: 0,
    ...(torchDtype !== undefined ? { torch_dtype: torchDtype } : {}),
    ...(c.bosTokenId !== null ? { bos_token_id: c.bosTokenId } : {}),
    ...(c.eosTokenIds.length === 1
      ? { eos_token_id: c.eosTokenIds[0] }
      : c.eosTokenIds.length > 1
        ? { eos_token_id: [...c.eosTokenIds] }
        : {}),
  };
}

/**
 * Resolves our own (camelCase) config input: `vocabSize, dModel, nLayers, nHeads, dMlp` are required; the rest
 * default (`nKvHeads` = nHeads, `dHead` = dModel / nHeads, see QWEN2_DEFAULTS). Unknown keys are rejected with the
 * nearest valid key. Never mutates the input.
 */
export function resolveQwen2Config(input: unknown): Qwen2Config {
  const file = "Qwen2Config";
  if (!isRecord(input)) throw new ConfigError("CONFIG_INVALID_FIELD", `${file}: expected an object`, { file });
  rejectUnknownKeys(input, OUR_KEYS, file);
  const shared = resolveDecoderFields(input, file, "qwen2", QWEN2_DEFAULTS);
  const ropeTheta =
    input.ropeTheta === undefined ? QWEN2_DEFAULTS.ropeTheta : positiveNumber(input.ropeTheta, "ropeTheta", file);
  return checkDecoderConsistent({ ...shared, architecture: "qwen2", ropeTheta }, file);
}
