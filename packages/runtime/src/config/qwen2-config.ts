import { didYouMean } from "@difflens/common";
import { ConfigError } from "../errors.ts";

/** The architecture parameters of a Qwen2-family decoder (Qwen1.5, Qwen2, Qwen2.5), in our names. */
export interface Qwen2Config {
  /** Architecture family; the config decides, not the checkpoint's name. */
  readonly architecture: "qwen2";
  /** Rows of the embedding / unembedding. HF `vocab_size`. */
  readonly vocabSize: number;
  /** Residual stream width. HF `hidden_size`. */
  readonly dModel: number;
  /** Decoder blocks. HF `num_hidden_layers`. */
  readonly nLayers: number;
  /** Query heads. HF `num_attention_heads`. */
  readonly nHeads: number;
  /** Key/value heads (GQA when < nHeads). HF `num_key_value_heads`. */
  readonly nKvHeads: number;
  /** Width of one head. HF `head_dim`, else hidden_size / num_attention_heads. */
  readonly dHead: number;
  /** MLP hidden width. HF `intermediate_size`. */
  readonly dMlp: number;
  /** Longest sequence the model accepts. HF `max_position_embeddings`. */
  readonly maxPositions: number;
  /** Epsilon inside RMSNorm's square root. HF `rms_norm_eps`. */
  readonly rmsNormEps: number;
  /** RoPE base frequency. HF `rope_theta`. */
  readonly ropeTheta: number;
  /** Unembedding shares the embedding matrix. HF `tie_word_embeddings`. */
  readonly tieWordEmbeddings: boolean;
  /** Token that begins a sequence, if the config names one. */
  readonly bosTokenId: number | null;
  /** Tokens that end generation by default (config.json; generation_config.json overrides at load). */
  readonly eosTokenIds: readonly number[];
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

const OUR_KEYS = [
  "architecture",
  "vocabSize",
  "dModel",
  "nLayers",
  "nHeads",
  "nKvHeads",
  "dHead",
  "dMlp",
  "maxPositions",
  "rmsNormEps",
  "ropeTheta",
  "tieWordEmbeddings",
  "bosTokenId",
  "eosTokenIds",
] as const;

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function positiveInt(value: unknown, field: string, file: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new ConfigError(
      "CONFIG_INVALID_FIELD",
      `${file}: "${field}" must be a positive integer, got ${JSON.stringify(value)}`,
      { file, field, expected: "positive integer", got: value },
    );
  }
  return value;
}

function positiveNumber(value: unknown, field: string, file: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new ConfigError(
      "CONFIG_INVALID_FIELD",
      `${file}: "${field}" must be a positive number, got ${JSON.stringify(value)}`,
      { file, field, expected: "positive number", got: value },
    );
  }
  return value;
}

function tokenIds(value: unknown, field: string, file: string): number[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  for (const v of list) {
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
      throw new ConfigError(
        "CONFIG_INVALID_FIELD",
        `${file}: "${field}" must be a token id or a list of them, got ${JSON.stringify(value)}`,
        { file, field, got: value },
      );
    }
  }
  return list as number[];
}

/** Checks the relations between fields; shared by both entry points. */
function checkConsistent(c: Qwen2Config, file: string): Qwen2Config {
  if (c.nHeads % c.nKvHeads !== 0) {
    throw new ConfigError(
      "CONFIG_CONTRADICTION",
      `${file}: num_attention_heads (${c.nHeads}) must be a multiple of num_key_value_heads (${c.nKvHeads})`,
      { file, field: "num_key_value_heads", got: c.nKvHeads },
    );
  }
  if (c.dHead % 2 !== 0) {
    throw new ConfigError(
      "CONFIG_CONTRADICTION",
      `${file}: head dimension ${c.dHead} must be even for rotary embeddings`,
      { file, field: "head_dim", got: c.dHead },
    );
  }
  for (const id of c.eosTokenIds) {
    if (id >= c.vocabSize) {
      throw new ConfigError(
        "CONFIG_CONTRADICTION",
        `${file}: eos_token_id ${id} is outside the vocabulary (vocab_size ${c.vocabSize})`,
        { file, field: "eos_token_id", got: id, expected: `< ${c.vocabSize}` },
      );
    }
  }
  return Object.freeze({ ...c, eosTokenIds: Object.freeze([...c.eosTokenIds]) });
}

const SUPPORTED = ["qwen2 (Qwen2ForCausalLM: Qwen1.5, Qwen2, Qwen2.5)"];

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
      `${file}: model_type ${JSON.stringify(modelType)} (architectures ${JSON.stringify(archs)}) is not supported; supported: ${SUPPORTED.join(", ")}`,
      { file, field: "model_type", got: modelType, expected: "qwen2" },
    );
  }
  const required = ["vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size"];
  for (const field of required) {
    if (json[field] === undefined) {
      throw new ConfigError("CONFIG_MISSING_FIELD", `${file}: missing required field "${field}"`, { file, field });
    }
  }
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
  const dModel = positiveInt(json.hidden_size, "hidden_size", file);
  const nHeads = positiveInt(json.num_attention_heads, "num_attention_heads", file);
  const maxPositions =
    json.max_position_embeddings === undefined
      ? QWEN2_DEFAULTS.maxPositions
      : positiveInt(json.max_position_embeddings, "max_position_embeddings", file);
  if (json.use_sliding_window === true) {
    const window = json.sliding_window;
    if (typeof window !== "number" || window < maxPositions) {
      throw new ConfigError(
        "UNSUPPORTED_FEATURE",
        `${file}: use_sliding_window is true with sliding_window ${JSON.stringify(window)} < max_position_embeddings ${maxPositions}; sliding-window attention is not supported`,
        { file, field: "use_sliding_window" },
      );
    }
  }
  let dHead: number;
  if (json.head_dim !== undefined && json.head_dim !== null) {
    dHead = positiveInt(json.head_dim, "head_dim", file);
  } else {
    if (dModel % nHeads !== 0) {
      throw new ConfigError(
        "CONFIG_CONTRADICTION",
        `${file}: hidden_size (${dModel}) is not divisible by num_attention_heads (${nHeads}) and no head_dim is given`,
        { file, field: "num_attention_heads" },
      );
    }
    dHead = dModel / nHeads;
  }
  const tie = json.tie_word_embeddings ?? QWEN2_DEFAULTS.tieWordEmbeddings;
  if (typeof tie !== "boolean") {
    throw new ConfigError("CONFIG_INVALID_FIELD", `${file}: tie_word_embeddings must be true or false`, {
      file,
      field: "tie_word_embeddings",
      got: tie,
    });
  }
  const bos = tokenIds(json.bos_token_id, "bos_token_id", file);
  return checkConsistent(
    {
      architecture: "qwen2",
      vocabSize: positiveInt(json.vocab_size, "vocab_size", file),
      dModel,
      nLayers: positiveInt(json.num_hidden_layers, "num_hidden_layers", file),
      nHeads,
      nKvHeads:
        json.num_key_value_heads === undefined || json.num_key_value_heads === null
          ? nHeads
          : positiveInt(json.num_key_value_heads, "num_key_value_heads", file),
      dHead,
      dMlp: positiveInt(json.intermediate_size, "intermediate_size", file),
      maxPositions,
      rmsNormEps:
        json.rms_norm_eps === undefined
          ? QWEN2_DEFAULTS.rmsNormEps
          : positiveNumber(json.rms_norm_eps, "rms_norm_eps", file),
      ropeTheta:
        json.rope_theta === undefined ? QWEN2_DEFAULTS.ropeTheta : positiveNumber(json.rope_theta, "rope_theta", file),
      tieWordEmbeddings: tie,
      bosTokenId: bos[0] ?? null,
      eosTokenIds: tokenIds(json.eos_token_id, "eos_token_id", file),
    },
    file,
  );
}

/** The HF `config.json` object for a config (what `saveModelFolder` writes). */
export function qwen2ConfigToHf(
  c: Qwen2Config,
  torchDtype: "float32" | "bfloat16" | "float16",
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
    torch_dtype: torchDtype,
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
  for (const key of Object.keys(input)) {
    if (!(OUR_KEYS as readonly string[]).includes(key)) {
      throw new ConfigError("CONFIG_UNKNOWN_KEY", `${file}: unknown key "${key}"${didYouMean(key, OUR_KEYS)}`, {
        file,
        field: key,
      });
    }
  }
  if (input.architecture !== undefined && input.architecture !== "qwen2") {
    throw new ConfigError(
      "UNSUPPORTED_ARCHITECTURE",
      `${file}: architecture ${JSON.stringify(input.architecture)} is not supported; supported: qwen2`,
      { file, field: "architecture" },
    );
  }
  for (const field of ["vocabSize", "dModel", "nLayers", "nHeads", "dMlp"]) {
    if (input[field] === undefined)
      throw new ConfigError("CONFIG_MISSING_FIELD", `${file}: missing required field "${field}"`, { file, field });
  }
  const dModel = positiveInt(input.dModel, "dModel", file);
  const nHeads = positiveInt(input.nHeads, "nHeads", file);
  if (input.dHead === undefined && dModel % nHeads !== 0) {
    throw new ConfigError(
      "CONFIG_CONTRADICTION",
      `${file}: dModel (${dModel}) is not divisible by nHeads (${nHeads}); give dHead`,
      { file, field: "nHeads" },
    );
  }
  const tie = input.tieWordEmbeddings ?? QWEN2_DEFAULTS.tieWordEmbeddings;
  if (typeof tie !== "boolean")
    throw new ConfigError("CONFIG_INVALID_FIELD", `${file}: tieWordEmbeddings must be a boolean`, {
      file,
      field: "tieWordEmbeddings",
    });
  const bos =
    input.bosTokenId === undefined || input.bosTokenId === null
      ? null
      : (tokenIds(input.bosTokenId, "bosTokenId", file)[0] ?? null);
  return checkConsistent(
    {
      architecture: "qwen2",
      vocabSize: positiveInt(input.vocabSize, "vocabSize", file),
      dModel,
      nLayers: positiveInt(input.nLayers, "nLayers", file),
      nHeads,
      nKvHeads: input.nKvHeads === undefined ? nHeads : positiveInt(input.nKvHeads, "nKvHeads", file),
      dHead: input.dHead === undefined ? dModel / nHeads : positiveInt(input.dHead, "dHead", file),
      dMlp: positiveInt(input.dMlp, "dMlp", file),
      maxPositions:
        input.maxPositions === undefined
          ? QWEN2_DEFAULTS.maxPositions
          : positiveInt(input.maxPositions, "maxPositions", file),
      rmsNormEps:
        input.rmsNormEps === undefined
          ? QWEN2_DEFAULTS.rmsNormEps
          : positiveNumber(input.rmsNormEps, "rmsNormEps", file),
      ropeTheta:
        input.ropeTheta === undefined ? QWEN2_DEFAULTS.ropeTheta : positiveNumber(input.ropeTheta, "ropeTheta", file),
      tieWordEmbeddings: tie,
      bosTokenId: bos,
      eosTokenIds: tokenIds(input.eosTokenIds, "eosTokenIds", file),
    },
    file,
  );
}
