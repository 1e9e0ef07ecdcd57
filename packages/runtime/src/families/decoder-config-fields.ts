/**
 * Reading the fields every decoder family's config shares (DecoderConfig) from an HF config.json or from our
 * camelCase input, with the checks every family needs. A family's config reader calls these, then reads its own
 * fields (RoPE scaling, soft-caps, windows) with the same field readers. Errors (ConfigError) name file and field.
 */
import { didYouMean } from "@difflens/common";
import { ConfigError } from "../errors.ts";
import type { DecoderConfig } from "./model-family.ts";

/** Per-family defaults of the shared fields HF configs may omit. */
export interface DecoderDefaults {
  readonly rmsNormEps: number;
  readonly tieWordEmbeddings: boolean;
  readonly maxPositions: number;
  /** HF `head_dim` default; absent = hidden_size / num_attention_heads. */
  readonly dHead?: number;
}

/** Our camelCase names of the shared fields (a family adds its own to the keys it accepts). */
export const DECODER_KEYS = [
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
  "tieWordEmbeddings",
  "bosTokenId",
  "eosTokenIds",
] as const;

export function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

export function positiveInt(value: unknown, field: string, file: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new ConfigError(
      "CONFIG_INVALID_FIELD",
      `${file}: "${field}" must be a positive integer, got ${JSON.stringify(value)}`,
      { file, field, expected: "positive integer", got: value },
    );
  }
  return value;
}

export function positiveNumber(value: unknown, field: string, file: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new ConfigError(
      "CONFIG_INVALID_FIELD",
      `${file}: "${field}" must be a positive number, got ${JSON.stringify(value)}`,
      { file, field, expected: "positive number", got: value },
    );
  }
  return value;
}

export function booleanField(value: unknown, field: string, file: string): boolean {
  if (typeof value !== "boolean") {
    throw new ConfigError("CONFIG_INVALID_FIELD", `${file}: ${field} must be true or false`, {
      file,
      field,
      got: value,
    });
  }
  return value;
}

export function tokenIds(value: unknown, field: string, file: string): number[] {
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

/** Throws CONFIG_MISSING_FIELD for the first of `fields` the object lacks. */
export function requireFields(json: Readonly<Record<string, unknown>>, fields: readonly string[], file: string): void {
  for (const field of fields) {
    if (json[field] === undefined) {
      throw new ConfigError("CONFIG_MISSING_FIELD", `${file}: missing required field "${field}"`, { file, field });
    }
  }
}

/** Throws CONFIG_UNKNOWN_KEY (with the nearest valid key) for a key of our input outside `keys`. */
export function rejectUnknownKeys(
  input: Readonly<Record<string, unknown>>,
  keys: readonly string[],
  file: string,
): void {
  for (const key of Object.keys(input)) {
    if (!keys.includes(key)) {
      throw new ConfigError("CONFIG_UNKNOWN_KEY", `${file}: unknown key "${key}"${didYouMean(key, keys)}`, {
        file,
        field: key,
      });
    }
  }
}

/** The shared fields of an HF config.json (not yet checked against each other: `checkDecoderConsistent`). */
export function hfDecoderFields(
  json: Readonly<Record<string, unknown>>,
  file: string,
  architecture: string,
  defaults: DecoderDefaults,
): DecoderConfig {
  requireFields(
    json,
    ["vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size"],
    file,
  );
  const dModel = positiveInt(json.hidden_size, "hidden_size", file);
  const nHeads = positiveInt(json.num_attention_heads, "num_attention_heads", file);
  let dHead: number;
  if (json.head_dim !== undefined && json.head_dim !== null) {
    dHead = positiveInt(json.head_dim, "head_dim", file);
  } else if (defaults.dHead !== undefined) {
    dHead = defaults.dHead;
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
  const bos = tokenIds(json.bos_token_id, "bos_token_id", file);
  return {
    architecture,
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
    maxPositions:
      json.max_position_embeddings === undefined
        ? defaults.maxPositions
        : positiveInt(json.max_position_embeddings, "max_position_embeddings", file),
    rmsNormEps:
      json.rms_norm_eps === undefined ? defaults.rmsNormEps : positiveNumber(json.rms_norm_eps, "rms_norm_eps", file),
    tieWordEmbeddings: booleanField(
      json.tie_word_embeddings ?? defaults.tieWordEmbeddings,
      "tie_word_embeddings",
      file,
    ),
    bosTokenId: bos[0] ?? null,
    eosTokenIds: tokenIds(json.eos_token_id, "eos_token_id", file),
  };
}

/** The HF config.json fields of the shared part (what a family's configToHf starts from). */
export function decoderFieldsToHf(c: DecoderConfig): Record<string, unknown> {
  return {
    vocab_size: c.vocabSize,
    hidden_size: c.dModel,
    intermediate_size: c.dMlp,
    num_hidden_layers: c.nLayers,
    num_attention_heads: c.nHeads,
    num_key_value_heads: c.nKvHeads,
    head_dim: c.dHead,
    max_position_embeddings: c.maxPositions,
    rms_norm_eps: c.rmsNormEps,
    tie_word_embeddings: c.tieWordEmbeddings,
    ...(c.bosTokenId !== null ? { bos_token_id: c.bosTokenId } : {}),
    ...(c.eosTokenIds.length === 1
      ? { eos_token_id: c.eosTokenIds[0] }
      : c.eosTokenIds.length > 1
        ? { eos_token_id: [...c.eosTokenIds] }
        : {}),
  };
}

/**
 * The shared fields of our camelCase input: `vocabSize, dModel, nLayers, nHeads, dMlp` required, the rest
 * defaulted (`nKvHeads` = nHeads, `dHead` = defaults.dHead or dModel / nHeads). Unknown keys are the caller's check
 * (`rejectUnknownKeys`, with the family's own keys added).
 */
export function resolveDecoderFields(
  input: Readonly<Record<string, unknown>>,
  file: string,
  architecture: string,
  defaults: DecoderDefaults,
): DecoderConfig {
  if (input.architecture !== undefined && input.architecture !== architecture) {
    throw new ConfigError(
      "UNSUPPORTED_ARCHITECTURE",
      `${file}: architecture ${JSON.stringify(input.architecture)} is not supported; supported: ${architecture}`,
      { file, field: "architecture" },
    );
  }
  requireFields(input, ["vocabSize", "dModel", "nLayers", "nHeads", "dMlp"], file);
  const dModel = positiveInt(input.dModel, "dModel", file);
  const nHeads = positiveInt(input.nHeads, "nHeads", file);
  if (input.dHead === undefined && defaults.dHead === undefined && dModel % nHeads !== 0) {
    throw new ConfigError(
      "CONFIG_CONTRADICTION",
      `${file}: dModel (${dModel}) is not divisible by nHeads (${nHeads}); give dHead`,
      { file, field: "nHeads" },
    );
  }
  const tie = input.tieWordEmbeddings ?? defaults.tieWordEmbeddings;
  if (typeof tie !== "boolean")
    throw new ConfigError("CONFIG_INVALID_FIELD", `${file}: tieWordEmbeddings must be a boolean`, {
      file,
      field: "tieWordEmbeddings",
    });
  const bos =
    input.bosTokenId === undefined || input.bosTokenId === null
      ? null
      : (tokenIds(input.bosTokenId, "bosTokenId", file)[0] ?? null);
  return {
    architecture,
    vocabSize: positiveInt(input.vocabSize, "vocabSize", file),
    dModel,
    nLayers: positiveInt(input.nLayers, "nLayers", file),
    nHeads,
    nKvHeads: input.nKvHeads === undefined ? nHeads : positiveInt(input.nKvHeads, "nKvHeads", file),
    dHead: input.dHead !== undefined ? positiveInt(input.dHead, "dHead", file) : (defaults.dHead ?? dModel / nHeads),
    dMlp: positiveInt(input.dMlp, "dMlp", file),
    maxPositions:
      input.maxPositions === undefined ? defaults.maxPositions : positiveInt(input.maxPositions, "maxPositions", file),
    rmsNormEps:
      input.rmsNormEps === undefined ? defaults.rmsNormEps : positiveNumber(input.rmsNormEps, "rmsNormEps", file),
    tieWordEmbeddings: tie,
    bosTokenId: bos,
    eosTokenIds: tokenIds(input.eosTokenIds, "eosTokenIds", file),
  };
}

/** Checks the relations between shared fields (GQA grouping, even head width for RoPE, eos inside the vocab); freezes. */
export function checkDecoderConsistent<C extends DecoderConfig>(c: C, file: string): C {
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
