/**
 * The Gemma 3 text family (`gemma3_text`, Gemma3ForCausalLM: gemma-3-1b and text-only exports) behind the
 * ModelFamily seam. Formula: ../gemma-common/gemma-forward.ts. Gemma 2's quirks plus: per-head q/k RMSNorm × (1 + w)
 * before RoPE, RoPE base rope_local_base_freq (default 10000) on sliding layers and rope_theta (default 1e6, ÷ the
 * linear rope_scaling factor when given) on full-attention layers, the sliding pattern from `layer_types` or
 * `sliding_window_pattern` (default 6: layers 5, 11, … are global), no soft-caps unless the config sets them.
 * The multimodal `gemma3` configs (Gemma3ForConditionalGeneration: gemma-3-4b/12b/27b, a `text_config` inside and
 * the decoder's weights under `language_model.`) are refused with a clear error, not read.
 */
import { ConfigError } from "../../errors.ts";
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

function gemma3ConfigFromHf(json: Readonly<Record<string, unknown>>, file: string): Gemma3Config {
  if (json.model_type === "gemma3") {
    throw new ConfigError(
      "UNSUPPORTED_FEATURE",
      `${file}: model_type "gemma3" is the multimodal Gemma3ForConditionalGeneration (vision tower + text_config); only the text decoder is supported: model_type "gemma3_text" (Gemma3ForCausalLM, e.g. google/gemma-3-1b-it)`,
      { file, field: "model_type", got: "gemma3", expected: "gemma3_text" },
    );
  }
  return gemmaConfigFromHf(json, file, GEMMA3_VARIANT) as Gemma3Config;
}

export const GEMMA3_FAMILY: ModelFamily<Gemma3Config, GemmaWeights> = Object.freeze<
  ModelFamily<Gemma3Config, GemmaWeights>
>({
  name: "gemma3",
  description: "gemma3 (Gemma3ForCausalLM: Gemma 3 text, model_type gemma3_text; multimodal gemma3 refused)",
  // "gemma3" is listed so that multimodal configs reach the clear refusal above
  modelTypes: ["gemma3_text", "gemma3"],
  architectures: ["Gemma3ForCausalLM"],
  configFromHf: gemma3ConfigFromHf,
  configToHf: (c) => gemmaConfigToHf(c, GEMMA3_VARIANT),
  resolveConfig: (input) => resolveGemmaConfig(input, GEMMA3_VARIANT) as Gemma3Config,
  hookSites: GEMMA3_HOOK_SITES,
  weightShapes: gemmaWeightShapes,
  bindWeights: bindGemmaWeights,
  weightEntries: gemmaWeightEntries,
  linearModules: GEMMA_LINEAR_MODULES,
  initStd: gemmaInitStd,
  forward: gemmaForward,
  unembed: gemmaUnembed,
  unembedNormed: gemmaUnembedNormed,
  normWeightOffset: 1,
});
