/**
 * The Llama family (`LlamaForCausalLM`: Llama 2, 3, 3.1, 3.2; `MistralForCausalLM` configs without a binding
 * sliding window): config reader (llama-config.ts), weight map (llama-weights.ts) and forward (llama-forward.ts,
 * with the formula) behind the ModelFamily seam. Quirks: no biases, GQA, tied or untied, `head_dim` from the config,
 * RoPE scaling linear / dynamic / llama3 (rope-scaling.ts). Hook sites: Qwen2's table exactly.
 */
import { DECODER_HOOK_SITES } from "../../hooks/hook-sites.ts";
import type { TensorSource } from "../../tensor-source.ts";
import type { ModelFamily } from "../model-family.ts";
import { type LlamaConfig, llamaConfigFromHf, llamaConfigToHf, resolveLlamaConfig } from "./llama-config.ts";
import { llamaForward, llamaUnembed, llamaUnembedNormed } from "./llama-forward.ts";
import {
  bindLlamaWeights,
  LLAMA_LINEAR_MODULES,
  type LlamaWeights,
  llamaInitStd,
  llamaWeightEntries,
  llamaWeightShapes,
} from "./llama-weights.ts";

export const LLAMA_FAMILY: ModelFamily<LlamaConfig, LlamaWeights> = Object.freeze({
  name: "llama",
  description: "llama (LlamaForCausalLM: Llama 2, 3, 3.1, 3.2; MistralForCausalLM without sliding window)",
  modelTypes: ["llama", "mistral"],
  architectures: ["LlamaForCausalLM", "MistralForCausalLM"],
  configFromHf: llamaConfigFromHf,
  configToHf: llamaConfigToHf,
  resolveConfig: resolveLlamaConfig,
  hookSites: DECODER_HOOK_SITES,
  weightShapes: (c: LlamaConfig) => llamaWeightShapes(c),
  bindWeights: (c: LlamaConfig, src: TensorSource) => bindLlamaWeights(c, src),
  weightEntries: (c: LlamaConfig, w: LlamaWeights) => llamaWeightEntries(c, w),
  linearModules: LLAMA_LINEAR_MODULES,
  initStd: llamaInitStd,
  forward: llamaForward,
  unembed: llamaUnembed,
  unembedNormed: llamaUnembedNormed,
});
