/**
 * The Qwen3 family's config (`Qwen3ForCausalLM`): the shared decoder fields plus RoPE base and scaling (the Llama
 * readers). HF's Qwen3Config defaults `head_dim` to 128 when config.json omits it (not hidden / heads) — followed
 * here. Refused by name: `attention_bias` true, `use_sliding_window` with a window shorter than the context,
 * `hidden_act` other than silu, RoPE scaling types other than linear / dynamic / llama3 (e.g. yarn).
 */
import { ConfigError } from "../../errors.ts";
import {
  checkDecoderConsistent,
  DECODER_KEYS,
  type DecoderDefaults,
  decoderFieldsToHf,
  hfDecoderFields,
  isRecord,
  rejectUnknownKeys,
  resolveDecoderFields,
} from "../decoder-config-fields.ts";
import {
  refuseSlidingWindow,
  refuseTrue,
  requireSilu,
  resolveRopeFields,
  ropeFieldsFromHf,
  ropeFieldsToHf,
} from "../llama/llama-config.ts";
import type { LlamaLikeConfig } from "../llama/llama-forward.ts";

export interface Qwen3Config extends LlamaLikeConfig {
  readonly architecture: "qwen3";
}

/** HF Qwen3Config's defaults. */
export const QWEN3_DEFAULTS: DecoderDefaults & { readonly ropeTheta: number } = Object.freeze({
  rmsNormEps: 1e-6,
  tieWordEmbeddings: false,
  maxPositions: 32768,
  dHead: 128,
  ropeTheta: 10000,
});

const QWEN3_KEYS = [...DECODER_KEYS, "ropeTheta", "ropeScaling"] as const;

export function qwen3ConfigFromHf(json: Readonly<Record<string, unknown>>, file: string): Qwen3Config {
  requireSilu(json, file, "Qwen3");
  refuseTrue(json, "attention_bias", file, "Qwen3 checkpoints have no q/k/v biases");
  const shared = hfDecoderFields(json, file, "qwen3", QWEN3_DEFAULTS);
  refuseSlidingWindow(json, file, shared.maxPositions);
  return checkDecoderConsistent<Qwen3Config>(
    {
      ...shared,
      architecture: "qwen3",
      ...ropeFieldsFromHf(json, file, shared.maxPositions, QWEN3_DEFAULTS.ropeTheta),
    },
    file,
  );
}

export function qwen3ConfigToHf(c: Qwen3Config): Record<string, unknown> {
  return {
    architectures: ["Qwen3ForCausalLM"],
    model_type: "qwen3",
    ...decoderFieldsToHf(c),
    ...ropeFieldsToHf(c),
    hidden_act: "silu",
    attention_bias: false,
    use_sliding_window: false,
    sliding_window: null,
    attention_dropout: 0,
  };
}

/**
 * Our camelCase input: the shared fields plus `ropeTheta`, `ropeScaling`. `dHead` defaults to dModel / nHeads here
 * (toy models), not HF's 128; saved folders always write head_dim.
 */
export function resolveQwen3Config(input: Readonly<Record<string, unknown>>): Qwen3Config {
  const file = "Qwen3Config";
  if (!isRecord(input)) throw new ConfigError("CONFIG_INVALID_FIELD", `${file}: expected an object`, { file });
  rejectUnknownKeys(input, QWEN3_KEYS, file);
  const shared = resolveDecoderFields(input, file, "qwen3", { ...QWEN3_DEFAULTS, dHead: undefined });
  return checkDecoderConsistent<Qwen3Config>(
    {
      ...shared,
      architecture: "qwen3",
      ...resolveRopeFields(input, file, shared.maxPositions, QWEN3_DEFAULTS.ropeTheta),
    },
    file,
  );
}
