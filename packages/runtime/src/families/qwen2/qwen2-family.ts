/**
 * The Qwen2 family (Qwen1.5, Qwen2, Qwen2.5: `Qwen2ForCausalLM`): its config reader, weight map and forward pass
 * (qwen2-forward.ts has the formula) behind the ModelFamily seam. Quirks: q/k/v biases, no sliding window (a
 * config with a window shorter than its context is refused), plain RoPE (rope_scaling refused). Random-model init:
 * the shared decoder scales (decoderInitStd: q/k/v biases N(0, 0.3)).
 */
import { DECODER_HOOK_SITES } from "../../hooks/hook-sites.ts";
import type { ModelFamily } from "../model-family.ts";
import { DECODER_LINEAR_MODULES, decoderInitStd } from "../shared/decoder-weights.ts";
import { type Qwen2Config, qwen2ConfigFromHf, qwen2ConfigToHf, resolveQwen2Config } from "./qwen2-config.ts";
import { qwen2Forward, qwen2Unembed, qwen2UnembedNormed } from "./qwen2-forward.ts";
import { bindQwen2Weights, type Qwen2Weights, qwen2WeightEntries, qwen2WeightShapes } from "./qwen2-weights.ts";

export const QWEN2_FAMILY = Object.freeze<ModelFamily<Qwen2Config, Qwen2Weights>>({
  name: "qwen2",
  description: "qwen2 (Qwen2ForCausalLM: Qwen1.5, Qwen2, Qwen2.5)",
  modelTypes: ["qwen2"],
  architectures: ["Qwen2ForCausalLM"],
  configFromHf: (json, file) => qwen2ConfigFromHf(json, file),
  configToHf: (c) => qwen2ConfigToHf(c),
  resolveConfig: (input) => resolveQwen2Config(input),
  hookSites: DECODER_HOOK_SITES,
  weightShapes: qwen2WeightShapes,
  bindWeights: bindQwen2Weights,
  weightEntries: qwen2WeightEntries,
  linearModules: DECODER_LINEAR_MODULES,
  initStd: decoderInitStd,
  forward: qwen2Forward,
  unembed: qwen2Unembed,
  unembedNormed: qwen2UnembedNormed,
});
