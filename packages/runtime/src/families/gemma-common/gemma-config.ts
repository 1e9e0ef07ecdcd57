/**
 * The config of the Gemma 2 and Gemma 3 (text) decoders, in our names, and its readers. Both families read the same
 * fields; a `GemmaVariant` says what differs (defaults, the sliding pattern, Gemma 3's local RoPE base and RoPE
 * scaling). Fields whose HF class default is a large model's value (head_dim 256, query_pre_attn_scalar 256,
 * sliding_window 4096, num_key_value_heads 4) are required here: a config without them is refused naming the field,
 * instead of silently getting Gemma-7B's shapes.
 */
import { ConfigError } from "../../errors.ts";
import {
  checkDecoderConsistent,
  DECODER_KEYS,
  decoderFieldsToHf,
  hfDecoderFields,
  isRecord,
  positiveInt,
  positiveNumber,
  rejectUnknownKeys,
  requireFields,
  resolveDecoderFields,
} from "../decoder-config-fields.ts";
import type { DecoderConfig } from "../model-family.ts";
import { readGemmaRope } from "./gemma-rope-config.ts";

/** HF's per-layer attention kinds (`layer_types`). */
export type GemmaLayerType = "sliding_attention" | "full_attention";

export interface GemmaConfig extends DecoderConfig {
  readonly architecture: "gemma2" | "gemma3";
  /** Scores are q·k · queryPreAttnScalar^−½ (not dHead^−½). HF `query_pre_attn_scalar`. */
  readonly queryPreAttnScalar: number;
  /** Sliding layers: key j is visible to query i iff i − j < slidingWindow. HF `sliding_window`. */
  readonly slidingWindow: number;
  /** Per layer. HF `layer_types`, else Gemma 2: even layers slide; Gemma 3: every `sliding_window_pattern`-th is full. */
  readonly layerTypes: readonly GemmaLayerType[];
  /** s → cap·tanh(s/cap) on the attention scores before the mask; null = none. HF `attn_logit_softcapping`. */
  readonly attnLogitSoftcap: number | null;
  /** The same on the logits. HF `final_logit_softcapping`. */
  readonly finalLogitSoftcap: number | null;
  /** RoPE base of full-attention layers (Gemma 2: of every layer). HF `rope_theta`. */
  readonly ropeTheta: number;
  /** RoPE base of sliding layers. Gemma 3: HF `rope_local_base_freq`; Gemma 2: equals ropeTheta. */
  readonly ropeLocalTheta: number;
  /** Gemma 3's linear RoPE scaling of full-attention layers (inv_freq / factor); null = none. HF `rope_scaling`. */
  readonly ropeLinearFactor: number | null;
}

/** What differs between Gemma 2 and Gemma 3 when reading a config. */
export interface GemmaVariant {
  readonly architecture: "gemma2" | "gemma3";
  readonly modelType: string;
  readonly hfArchitecture: string;
  readonly defaults: {
    readonly rmsNormEps: number;
    readonly tieWordEmbeddings: boolean;
    readonly maxPositions: number;
    readonly ropeTheta: number;
    readonly attnLogitSoftcap: number | null;
    readonly finalLogitSoftcap: number | null;
    /** Gemma 2: 2 (even layers slide); Gemma 3: HF `sliding_window_pattern` default 6. */
    readonly slidingPattern: number;
  };
  /** Gemma 3: sliding layers have their own RoPE base, full layers may have linear RoPE scaling. */
  readonly localRope: boolean;
}

/** HF's rule without `layer_types`: layer i slides iff (i + 1) % pattern ≠ 0. */
export function patternLayerTypes(nLayers: number, pattern: number): GemmaLayerType[] {
  return Array.from({ length: nLayers }, (_, i) => ((i + 1) % pattern !== 0 ? "sliding_attention" : "full_attention"));
}

function layerTypes(value: unknown, nLayers: number, field: string, file: string): GemmaLayerType[] {
  if (
    !Array.isArray(value) ||
    value.length !== nLayers ||
    !value.every((t) => t === "sliding_attention" || t === "full_attention")
  ) {
    throw new ConfigError(
      "CONFIG_INVALID_FIELD",
      `${file}: "${field}" must list "sliding_attention" or "full_attention" for each of the ${nLayers} layers, got ${JSON.stringify(value)}`,
      { file, field, got: value },
    );
  }
  return value as GemmaLayerType[];
}

/** A soft-cap: absent → the variant's default, null → none, else a positive number. */
function softcap(value: unknown, fallback: number | null, field: string, file: string): number | null {
  if (value === undefined) return fallback;
  if (value === null) return null;
  return positiveNumber(value, field, file);
}

function refuse(file: string, field: string, got: unknown, why: string): never {
  throw new ConfigError("UNSUPPORTED_FEATURE", `${file}: ${field} ${JSON.stringify(got)} — ${why}`, {
    file,
    field,
    got,
  });
}

function finish(c: GemmaConfig, file: string): GemmaConfig {
  const n = c.layerTypes.length;
  if (n !== c.nLayers) {
    const message = `${file}: layer_types has ${n} entries for ${c.nLayers} layers`;
    throw new ConfigError("CONFIG_CONTRADICTION", message, { file, field: "layer_types" });
  }
  const frozen = checkDecoderConsistent(c, file);
  return Object.freeze({ ...frozen, layerTypes: Object.freeze([...c.layerTypes]) });
}

/** Validates an HF config.json of the variant; errors name the file and the field. */
export function gemmaConfigFromHf(json: Readonly<Record<string, unknown>>, file: string, v: GemmaVariant): GemmaConfig {
  if (!isRecord(json)) throw new ConfigError("CONFIG_INVALID_FIELD", `${file}: expected a JSON object`, { file });
  const modelType = json.model_type;
  const archs = Array.isArray(json.architectures) ? json.architectures : [];
  if (modelType !== v.modelType && !(modelType === undefined && archs.includes(v.hfArchitecture))) {
    throw new ConfigError(
      "UNSUPPORTED_ARCHITECTURE",
      `${file}: model_type ${JSON.stringify(modelType)} (architectures ${JSON.stringify(archs)}) is not a ${v.architecture} config (${v.modelType}: ${v.hfArchitecture}); familyForHfConfig picks the family`,
      { file, field: "model_type", got: modelType, expected: v.modelType },
    );
  }
  requireFields(json, ["num_key_value_heads", "head_dim", "query_pre_attn_scalar", "sliding_window"], file);
  const shared = hfDecoderFields(json, file, v.architecture, v.defaults);
  const act = json.hidden_activation ?? json.hidden_act ?? "gelu_pytorch_tanh";
  if (act !== "gelu_pytorch_tanh")
    refuse(
      file,
      json.hidden_activation !== undefined ? "hidden_activation" : "hidden_act",
      act,
      'Gemma uses "gelu_pytorch_tanh"',
    );
  if (json.attention_bias === true) refuse(file, "attention_bias", true, "Gemma has no q/k/v/o biases");
  if (json.use_bidirectional_attention === true)
    refuse(file, "use_bidirectional_attention", true, "only causal (decoder) Gemma is supported");
  const patternField = json.sliding_window_pattern !== undefined ? "sliding_window_pattern" : "_sliding_window_pattern";
  const pattern =
    v.localRope && json[patternField] !== undefined
      ? positiveInt(json[patternField], patternField, file)
      : v.defaults.slidingPattern;
  return finish(
    {
      ...shared,
      architecture: v.architecture,
      queryPreAttnScalar: positiveNumber(json.query_pre_attn_scalar, "query_pre_attn_scalar", file),
      slidingWindow: positiveInt(json.sliding_window, "sliding_window", file),
      layerTypes:
        json.layer_types === undefined || json.layer_types === null
          ? patternLayerTypes(shared.nLayers, pattern)
          : layerTypes(json.layer_types, shared.nLayers, "layer_types", file),
      attnLogitSoftcap: softcap(
        json.attn_logit_softcapping,
        v.defaults.attnLogitSoftcap,
        "attn_logit_softcapping",
        file,
      ),
      finalLogitSoftcap: softcap(
        json.final_logit_softcapping,
        v.defaults.finalLogitSoftcap,
        "final_logit_softcapping",
        file,
      ),
      ...readGemmaRope(json, file, { ...v.defaults, localRope: v.localRope, hfArchitecture: v.hfArchitecture }),
    },
    file,
  );
}

/** The HF config.json of a config (round-trips through gemmaConfigFromHf; layer_types always written out). */
export function gemmaConfigToHf(c: GemmaConfig, v: GemmaVariant): Record<string, unknown> {
  const shared = decoderFieldsToHf(c);
  return {
    architectures: [v.hfArchitecture],
    model_type: v.modelType,
    ...shared,
    hidden_activation: "gelu_pytorch_tanh",
    query_pre_attn_scalar: c.queryPreAttnScalar,
    sliding_window: c.slidingWindow,
    layer_types: [...c.layerTypes],
    attn_logit_softcapping: c.attnLogitSoftcap,
    final_logit_softcapping: c.finalLogitSoftcap,
    rope_theta: c.ropeTheta,
    ...(v.localRope
      ? {
          rope_local_base_freq: c.ropeLocalTheta,
          rope_scaling: c.ropeLinearFactor === null ? null : { rope_type: "linear", factor: c.ropeLinearFactor },
        }
      : {}),
    attention_bias: false,
    attention_dropout: 0,
  };
}

const GEMMA_KEYS = [
  "queryPreAttnScalar",
  "slidingWindow",
  "layerTypes",
  "attnLogitSoftcap",
  "finalLogitSoftcap",
  "ropeTheta",
] as const;
const GEMMA3_KEYS = ["ropeLocalTheta", "ropeLinearFactor"] as const;

/**
 * Our camelCase input (random and toy models): the shared fields as every family (vocabSize, dModel, nLayers,
 * nHeads, dMlp required), then queryPreAttnScalar (default dHead), slidingWindow (default 4096), layerTypes (the
 * variant's pattern), the soft-caps (HF defaults), ropeTheta; Gemma 3 also ropeLocalTheta (10000) and
 * ropeLinearFactor (null).
 */
export function resolveGemmaConfig(input: Readonly<Record<string, unknown>>, v: GemmaVariant): GemmaConfig {
  const file = `${v.architecture === "gemma2" ? "Gemma2" : "Gemma3"}Config`;
  if (!isRecord(input)) throw new ConfigError("CONFIG_INVALID_FIELD", `${file}: expected an object`, { file });
  rejectUnknownKeys(input, [...DECODER_KEYS, ...GEMMA_KEYS, ...(v.localRope ? GEMMA3_KEYS : [])], file);
  const shared = resolveDecoderFields(input, file, v.architecture, v.defaults);
  const num = (key: string, fallback: number): number =>
    input[key] === undefined ? fallback : positiveNumber(input[key], key, file);
  const ropeTheta = num("ropeTheta", v.defaults.ropeTheta);
  const factor = input.ropeLinearFactor;
  return finish(
    {
      ...shared,
      architecture: v.architecture,
      queryPreAttnScalar: num("queryPreAttnScalar", shared.dHead),
      slidingWindow: input.slidingWindow === undefined ? 4096 : positiveInt(input.slidingWindow, "slidingWindow", file),
      layerTypes:
        input.layerTypes === undefined
          ? patternLayerTypes(shared.nLayers, v.defaults.slidingPattern)
          : layerTypes(input.layerTypes, shared.nLayers, "layerTypes", file),
      attnLogitSoftcap: softcap(input.attnLogitSoftcap, v.defaults.attnLogitSoftcap, "attnLogitSoftcap", file),
      finalLogitSoftcap: softcap(input.finalLogitSoftcap, v.defaults.finalLogitSoftcap, "finalLogitSoftcap", file),
      ropeTheta,
      ropeLocalTheta: v.localRope ? num("ropeLocalTheta", 10000) : ropeTheta,
      ropeLinearFactor:
        factor === undefined || factor === null ? null : positiveNumber(factor, "ropeLinearFactor", file),
    },
    file,
  );
}
