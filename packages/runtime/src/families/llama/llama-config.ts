/**
 * The Llama family's config (Llama 2 / 3 / 3.1 / 3.2 `LlamaForCausalLM`, and `MistralForCausalLM` configs without a
 * binding sliding window): the shared decoder fields plus RoPE base and scaling. Refused by name: `attention_bias`
 * or `mlp_bias` true (no public Llama checkpoint we target uses them), `hidden_act` other than silu, a Mistral
 * `sliding_window` shorter than `max_position_embeddings`. `pretraining_tp` is ignored (HF's tensor-parallel
 * slicing computes the same function).
 */
import { ConfigError } from "../../errors.ts";
import {
  checkDecoderConsistent,
  DECODER_KEYS,
  type DecoderDefaults,
  decoderFieldsToHf,
  hfDecoderFields,
  isRecord,
  positiveNumber,
  rejectUnknownKeys,
  resolveDecoderFields,
} from "../decoder-config-fields.ts";
import type { DecoderConfig } from "../model-family.ts";
import {
  contextLimit,
  hfMaxPositions,
  type RopeScaling,
  resolveRopeScaling,
  ropeScalingFromHf,
  ropeScalingToHf,
} from "./rope-scaling.ts";

export interface LlamaConfig extends DecoderConfig {
  readonly architecture: "llama";
  /** RoPE base frequency. HF `rope_theta`. */
  readonly ropeTheta: number;
  /** HF `rope_scaling` (linear, dynamic, llama3), null for plain RoPE. */
  readonly ropeScaling: RopeScaling | null;
  /** The config.json `model_type` it came from, so a saved folder keeps it ("llama" unless read from Mistral). */
  readonly hfModelType: "llama" | "mistral";
}

/** HF LlamaConfig's defaults (Mistral's differ only in max_position_embeddings, which its configs always give). */
export const LLAMA_DEFAULTS: DecoderDefaults & { readonly ropeTheta: number } = Object.freeze({
  rmsNormEps: 1e-6,
  tieWordEmbeddings: false,
  maxPositions: 2048,
  ropeTheta: 10000,
});

const LLAMA_KEYS = [...DECODER_KEYS, "ropeTheta", "ropeScaling", "hfModelType"] as const;

/** `hidden_act` must be silu (SwiGLU); named in the error otherwise. */
export function requireSilu(json: Readonly<Record<string, unknown>>, file: string, family: string): void {
  const act = json.hidden_act ?? "silu";
  if (act !== "silu")
    throw new ConfigError("CONFIG_CONTRADICTION", `${file}: hidden_act "${String(act)}" — ${family} uses "silu"`, {
      file,
      field: "hidden_act",
      got: act,
      expected: "silu",
    });
}

/** Refuses a boolean HF field that is true (a feature the family's forward does not compute). */
export function refuseTrue(json: Readonly<Record<string, unknown>>, field: string, file: string, why: string): void {
  if (json[field] === true)
    throw new ConfigError("UNSUPPORTED_FEATURE", `${file}: ${field} is true — ${why}`, { file, field, got: true });
}

/** Refuses a sliding window shorter than the context (it would change attention; these families run full). */
export function refuseSlidingWindow(json: Readonly<Record<string, unknown>>, file: string, maxPositions: number): void {
  const window = json.sliding_window;
  if (json.use_sliding_window === false || window === undefined || window === null) return;
  if (typeof window !== "number" || window < maxPositions)
    throw new ConfigError(
      "UNSUPPORTED_FEATURE",
      `${file}: sliding_window ${JSON.stringify(window)} < max_position_embeddings ${maxPositions}; sliding-window attention is not supported for this family`,
      { file, field: "sliding_window", got: window },
    );
}

/** The RoPE fields of a Llama-like config (and the context limit dynamic scaling extends). */
interface RopeFields {
  readonly ropeTheta: number;
  readonly ropeScaling: RopeScaling | null;
  readonly maxPositions: number;
}

/** RoPE base and scaling from config.json; `maxPositions` is the shared field read before (max_position_embeddings). */
export function ropeFieldsFromHf(
  json: Readonly<Record<string, unknown>>,
  file: string,
  maxPositions: number,
  defaultTheta: number,
): RopeFields {
  const ropeScaling = ropeScalingFromHf(json.rope_scaling, file, maxPositions);
  return {
    ropeTheta: json.rope_theta === undefined ? defaultTheta : positiveNumber(json.rope_theta, "rope_theta", file),
    ropeScaling,
    maxPositions: contextLimit(maxPositions, ropeScaling),
  };
}

/** The HF fields of the RoPE part (max_position_embeddings included: dynamic scaling writes its original M). */
export function ropeFieldsToHf(c: RopeFields): Record<string, unknown> {
  return {
    max_position_embeddings: hfMaxPositions(c.maxPositions, c.ropeScaling),
    rope_theta: c.ropeTheta,
    rope_scaling: ropeScalingToHf(c.ropeScaling),
  };
}

/** RoPE fields of our camelCase input; under dynamic scaling an absent maxPositions is ⌊M · factor⌋. */
export function resolveRopeFields(
  input: Readonly<Record<string, unknown>>,
  file: string,
  maxPositions: number,
  defaultTheta: number,
): RopeFields {
  const ropeScaling = resolveRopeScaling(input.ropeScaling, file);
  return {
    ropeTheta: input.ropeTheta === undefined ? defaultTheta : positiveNumber(input.ropeTheta, "ropeTheta", file),
    ropeScaling,
    maxPositions:
      input.maxPositions === undefined && ropeScaling?.type === "dynamic"
        ? contextLimit(ropeScaling.originalMaxPositions, ropeScaling)
        : maxPositions,
  };
}

export function llamaConfigFromHf(json: Readonly<Record<string, unknown>>, file: string): LlamaConfig {
  const hfModelType = json.model_type === "mistral" ? "mistral" : "llama";
  requireSilu(json, file, "Llama");
  refuseTrue(json, "attention_bias", file, "q/k/v/o biases are not supported for Llama configs");
  refuseTrue(json, "mlp_bias", file, "MLP biases are not supported for Llama configs");
  const shared = hfDecoderFields(json, file, "llama", LLAMA_DEFAULTS);
  refuseSlidingWindow(json, file, shared.maxPositions);
  return checkDecoderConsistent<LlamaConfig>(
    {
      ...shared,
      architecture: "llama",
      ...ropeFieldsFromHf(json, file, shared.maxPositions, LLAMA_DEFAULTS.ropeTheta),
      hfModelType,
    },
    file,
  );
}

export function llamaConfigToHf(c: LlamaConfig): Record<string, unknown> {
  const mistral = c.hfModelType === "mistral";
  return {
    architectures: [mistral ? "MistralForCausalLM" : "LlamaForCausalLM"],
    model_type: c.hfModelType,
    ...decoderFieldsToHf(c),
    ...ropeFieldsToHf(c),
    hidden_act: "silu",
    ...(mistral ? { sliding_window: null } : { attention_bias: false, mlp_bias: false }),
    attention_dropout: 0,
  };
}

/** Our camelCase input: the shared fields plus `ropeTheta`, `ropeScaling` (rope-scaling.ts), `hfModelType`. */
export function resolveLlamaConfig(input: Readonly<Record<string, unknown>>): LlamaConfig {
  const file = "LlamaConfig";
  if (!isRecord(input)) throw new ConfigError("CONFIG_INVALID_FIELD", `${file}: expected an object`, { file });
  rejectUnknownKeys(input, LLAMA_KEYS, file);
  const hfModelType = input.hfModelType ?? "llama";
  if (hfModelType !== "llama" && hfModelType !== "mistral")
    throw new ConfigError("CONFIG_INVALID_FIELD", `${file}: hfModelType must be "llama" or "mistral"`, {
      file,
      field: "hfModelType",
      got: hfModelType,
    });
  const shared = resolveDecoderFields(input, file, "llama", LLAMA_DEFAULTS);
  return checkDecoderConsistent<LlamaConfig>(
    {
      ...shared,
      architecture: "llama",
      ...resolveRopeFields(input, file, shared.maxPositions, LLAMA_DEFAULTS.ropeTheta),
      hfModelType,
    },
    file,
  );
}
