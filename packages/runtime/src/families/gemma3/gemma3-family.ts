/**
 * The Gemma 3 text family (`gemma3_text`, Gemma3ForCausalLM: gemma-3-1b and text-only exports) behind the
 * ModelFamily seam. Formula: ../gemma-common/gemma-forward.ts. Gemma 2's quirks plus: per-head q/k RMSNorm × (1 + w)
 * before RoPE, RoPE base rope_local_base_freq (default 10000) on sliding layers and rope_theta (default 1e6, ÷ the
 * linear rope_scaling factor when given) on full-attention layers, the sliding pattern from `layer_types` or
 * `sliding_window_pattern` (default 6: layers 5, 11, … are global), no soft-caps unless the config sets them.
 * Multimodal `gemma3` checkpoints (Gemma3ForConditionalGeneration: gemma-3-4b/12b/27b) load as their text decoder:
 * the config's `text_config` over Gemma3TextConfig's defaults, the decoder weights from under their prefix, the
 * vision tower ignored (gemma3-multimodal.ts).
 */
import {
  type GemmaConfig,
  type GemmaVariant,
  gemmaConfigFromHf,
  gemmaConfigToHf,
  resolveGemmaConfig,
} from "../gemma-common/gemma-config.ts";
import { gemmaForward, gemmaUnembed, gemmaUnembedNormed } from "../gemma-common/gemma-forward.ts";
import { GEMMA3_HOOK_SITES } from "../gemma-common/gemma-hook-sites.ts";
import {
  bindGemmaWeights,
  GEMMA_LINEAR_MODULES,
  type GemmaWeights,
  gemmaInitStd,
  gemmaWeightEntries,
  gemmaWeightShapes,
} from "../gemma-common/gemma-weights.ts";
import type { ModelFamily } from "../model-family.ts";
import { textConfigOf, textDecoderSource } from "./gemma3-multimodal.ts";

export interface Gemma3Config extends GemmaConfig {
  readonly architecture: "gemma3";
}

export const GEMMA3_VARIANT: GemmaVariant = Object.freeze({
  architecture: "gemma3",
  modelType: "gemma3_text",
  hfArchitecture: "Gemma3ForCausalLM",
  defaults: Object.freeze({
    rmsNormEps: 1e-6,
    tieWordEmbeddings: true,
    maxPositions: 131072,
    ropeTheta: 1_000_000,
    attnLogitSoftcap: null,
    finalLogitSoftcap: null,
    slidingPattern: 6,
  }),
  localRope: true,
});

/** A gemma3_text config.json, or a multimodal gemma3 one (its text_config). */
function gemma3ConfigFromHf(json: Readonly<Record<string, unknown>>, file: string): Gemma3Config {
  const archs = Array.isArray(json.architectures) ? json.architectures : [];
  const multimodal =
    json.model_type === "gemma3" || (json.model_type === undefined && archs.includes("Gemma3ForConditionalGeneration"));
  const text = multimodal ? textConfigOf(json, file) : json;
  return gemmaConfigFromHf(text, json === text ? file : `${file} (text_config)`, GEMMA3_VARIANT) as Gemma3Config;
}

export const GEMMA3_FAMILY: ModelFamily<Gemma3Config, GemmaWeights> = Object.freeze<
  ModelFamily<Gemma3Config, GemmaWeights>
>({
  name: "gemma3",
  description: "gemma3 (Gemma3ForCausalLM: Gemma 3 text; the text decoder of Gemma3ForConditionalGeneration)",
  modelTypes: ["gemma3_text", "gemma3"],
  architectures: ["Gemma3ForCausalLM", "Gemma3ForConditionalGeneration"],
  configFromHf: gemma3ConfigFromHf,
  configToHf: (c) => gemmaConfigToHf(c, GEMMA3_VARIANT),
  resolveConfig: (input) => resolveGemmaConfig(input, GEMMA3_VARIANT) as Gemma3Config,
  hookSites: GEMMA3_HOOK_SITES,
  weightShapes: gemmaWeightShapes,
  bindWeights: (c, src) => bindGemmaWeights(c, textDecoderSource(src)),
  weightEntries: gemmaWeightEntries,
  linearModules: GEMMA_LINEAR_MODULES,
  initStd: gemmaInitStd,
  forward: gemmaForward,
  unembed: gemmaUnembed,
  unembedNormed: gemmaUnembedNormed,
  normWeightOffset: 1,
});
