/**
 * The Gemma 2 family (`gemma2`, Gemma2ForCausalLM: gemma-2-2b/9b/27b and their -it models) behind the ModelFamily
 * seam. Formula: ../gemma-common/gemma-forward.ts. Quirks: embedding × √dModel, RMSNorm × (1 + w), norms before
 * and after attention and MLP, GeGLU with the tanh GELU, attention-logit soft-cap (before the mask) and final-logit
 * soft-cap (HF defaults 50 and 30 when the config omits them; null switches one off), scores scaled by
 * query_pre_attn_scalar^−½, head_dim from the config, sliding-window attention on the even layers (0, 2, …; HF:
 * layer_types "sliding_attention" iff (i + 1) % 2, or the config's own layer_types), plain RoPE (rope_theta on every
 * layer; rope_scaling refused), tied embeddings unless the config unties them.
 */

import {
  type GemmaConfig,
  type GemmaVariant,
  gemmaConfigFromHf,
  gemmaConfigToHf,
  resolveGemmaConfig,
} from "../gemma-common/gemma-config.ts";
import { gemmaForward, gemmaUnembed, gemmaUnembedNormed } from "../gemma-common/gemma-forward.ts";
import { GEMMA2_HOOK_SITES } from "../gemma-common/gemma-hook-sites.ts";
import {
  bindGemmaWeights,
  GEMMA_LINEAR_MODULES,
  type GemmaWeights,
  gemmaInitStd,
  gemmaWeightEntries,
  gemmaWeightShapes,
} from "../gemma-common/gemma-weights.ts";
import type { ModelFamily } from "../model-family.ts";

export interface Gemma2Config extends GemmaConfig {
  readonly architecture: "gemma2";
}

export const GEMMA2_VARIANT: GemmaVariant = Object.freeze({
  architecture: "gemma2",
  modelType: "gemma2",
  hfArchitecture: "Gemma2ForCausalLM",
  defaults: Object.freeze({
    rmsNormEps: 1e-6,
    tieWordEmbeddings: true,
    maxPositions: 8192,
    ropeTheta: 10000,
    attnLogitSoftcap: 50,
    finalLogitSoftcap: 30,
    slidingPattern: 2,
  }),
  localRope: false,
});

export const GEMMA2_FAMILY: ModelFamily<Gemma2Config, GemmaWeights> = Object.freeze<
  ModelFamily<Gemma2Config, GemmaWeights>
>({
  name: "gemma2",
  description: "gemma2 (Gemma2ForCausalLM: Gemma 2 2B/9B/27B)",
  modelTypes: ["gemma2"],
  architectures: ["Gemma2ForCausalLM"],
  configFromHf: (json, file) => gemmaConfigFromHf(json, file, GEMMA2_VARIANT) as Gemma2Config,
  configToHf: (c) => gemmaConfigToHf(c, GEMMA2_VARIANT),
  resolveConfig: (input) => resolveGemmaConfig(input, GEMMA2_VARIANT) as Gemma2Config,
  hookSites: GEMMA2_HOOK_SITES,
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
