/**
 * Reading the text decoder of a multimodal Gemma 3 checkpoint (model_type "gemma3", Gemma3ForConditionalGeneration:
 * gemma-3-4b/12b/27b): its `text_config` is a Gemma3TextConfig and its decoder weights sit under a prefix; the vision
 * tower and projector are ignored. HF saves a sub-config as its difference from the class defaults, so the
 * text_config of gemma-3-4b-it names only hidden_size, intermediate_size, num_hidden_layers, rope_scaling and
 * sliding_window: the fields it omits take Gemma3TextConfig's defaults (GEMMA3_TEXT_DEFAULTS). A model loaded this way
 * is a `gemma3` text model: saving it writes a text-only (gemma3_text) folder.
 */
import { ConfigError } from "../../errors.ts";
import type { TensorSource } from "../../tensor-source.ts";
import { isRecord } from "../decoder-config-fields.ts";

/**
 * Gemma3TextConfig's class defaults (transformers 4.50+) of the fields the text decoder reads (the sliding pattern's
 * default, 6, is the gemma3 variant's own: a text_config may give layer_types or _sliding_window_pattern instead).
 */
export const GEMMA3_TEXT_DEFAULTS: Readonly<Record<string, unknown>> = Object.freeze({
  vocab_size: 262_208,
  hidden_size: 2304,
  intermediate_size: 9216,
  num_hidden_layers: 26,
  num_attention_heads: 8,
  num_key_value_heads: 4,
  head_dim: 256,
  hidden_activation: "gelu_pytorch_tanh",
  max_position_embeddings: 131_072,
  rms_norm_eps: 1e-6,
  pad_token_id: 0,
  eos_token_id: 1,
  bos_token_id: 2,
  tie_word_embeddings: true,
  rope_theta: 1_000_000,
  rope_local_base_freq: 10_000,
  attention_bias: false,
  query_pre_attn_scalar: 256,
  sliding_window: 4096,
  final_logit_softcapping: null,
  attn_logit_softcapping: null,
  rope_scaling: null,
});

/** The gemma3_text config inside a multimodal gemma3 config.json: text_config over the class defaults. */
export function textConfigOf(json: Readonly<Record<string, unknown>>, file: string): Record<string, unknown> {
  const text = json.text_config;
  if (!isRecord(text)) {
    throw new ConfigError(
      "CONFIG_MISSING_FIELD",
      `${file}: a multimodal gemma3 config needs "text_config" (the Gemma3TextConfig of its decoder)`,
      { file, field: "text_config" },
    );
  }
  const out: Record<string, unknown> = { ...GEMMA3_TEXT_DEFAULTS, ...text, model_type: "gemma3_text" };
  // stop tokens: the text_config's own, else the top level's (gemma-3-*-it: [1, 106])
  if (text.eos_token_id === undefined && json.eos_token_id !== undefined) out.eos_token_id = json.eos_token_id;
  return out;
}

/** Where multimodal checkpoints keep the decoder: transformers < 4.52 and ≥ 4.52 layouts. */
const PREFIXES = [
  { model: "language_model.model.", head: "language_model.lm_head.weight" },
  { model: "model.language_model.", head: "lm_head.weight" },
];

/**
 * A view of a checkpoint under the text-only names (`model.…`, `lm_head.weight`): the source itself when it has
 * them, else the multimodal layout's decoder tensors renamed.
 */
export function textDecoderSource(src: TensorSource): TensorSource {
  if (src.has("model.embed_tokens.weight")) return src;
  const layout = PREFIXES.find((p) => src.has(`${p.model}embed_tokens.weight`));
  if (!layout) return src; // the binder names the missing tensor
  const stored = (name: string): string =>
    name === "lm_head.weight" ? layout.head : name.startsWith("model.") ? layout.model + name.slice(6) : name;
  const ours = (name: string): string | null =>
    name === layout.head
      ? "lm_head.weight"
      : name.startsWith(layout.model)
        ? `model.${name.slice(layout.model.length)}`
        : null;
  return {
    source: `${src.source} (text decoder under "${layout.model}")`,
    keys: () => src.keys().flatMap((k) => ours(k) ?? []),
    has: (name) => src.has(stored(name)),
    info: (name) => src.info(stored(name)),
    get: (name) => src.get(stored(name)),
  };
}
