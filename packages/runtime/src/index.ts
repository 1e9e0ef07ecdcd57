// @difflens/runtime: Transformer forward passes with hook points, caching, generation and interventions.

/** The one token-batch type, declared in @difflens/tokenizer (with `padTokenRows`, which lays one out). */
export type { TokenBatch } from "@difflens/tokenizer";
export { directLogitAttribution, klDivergence, logitLens, perTokenLoss } from "./analysis/analysis.ts";
export { type TokenStanding, tokenStandings } from "./analysis/token-probability.ts";
export type { TokenArrays, TokenInput } from "./batch.ts";
export { leftPad, prepareBatch, toTokenBatch } from "./batch.ts";
export type { RuntimeErrorCode } from "./errors.ts";
export { CheckpointError, ConfigError, HookError, HubError, InputError, LoraError, RuntimeError } from "./errors.ts";
export type { DecoderDefaults } from "./families/decoder-config-fields.ts";
export type { GemmaConfig, GemmaLayerType } from "./families/gemma-common/gemma-config.ts";
export { GEMMA2_HOOK_SITES, GEMMA3_HOOK_SITES } from "./families/gemma-common/gemma-hook-sites.ts";
export type { GemmaLayerWeights, GemmaWeights } from "./families/gemma-common/gemma-weights.ts";
export { GEMMA2_FAMILY, type Gemma2Config } from "./families/gemma2/gemma2-family.ts";
export { GEMMA3_FAMILY, type Gemma3Config } from "./families/gemma3/gemma3-family.ts";
export type { LlamaConfig } from "./families/llama/llama-config.ts";
export { llamaConfigFromHf, resolveLlamaConfig } from "./families/llama/llama-config.ts";
export { LLAMA_FAMILY } from "./families/llama/llama-family.ts";
export type { LlamaLayerWeights, LlamaWeights } from "./families/llama/llama-weights.ts";
export { type RopeScaling, ropeInvFreq } from "./families/llama/rope-scaling.ts";
export type {
  DecoderConfig,
  DecoderLayerWeights,
  DecoderWeights,
  ModelFamily,
} from "./families/model-family.ts";
export type { Qwen2Config } from "./families/qwen2/qwen2-config.ts";
export {
  QWEN2_DEFAULTS,
  qwen2ConfigFromHf,
  qwen2ConfigToHf,
  resolveQwen2Config,
} from "./families/qwen2/qwen2-config.ts";
export { QWEN2_FAMILY } from "./families/qwen2/qwen2-family.ts";
export type { Qwen2LayerWeights, Qwen2Weights } from "./families/qwen2/qwen2-weights.ts";
export { qwen2WeightShapes } from "./families/qwen2/qwen2-weights.ts";
export type { Qwen3Config } from "./families/qwen3/qwen3-config.ts";
export { qwen3ConfigFromHf, resolveQwen3Config } from "./families/qwen3/qwen3-config.ts";
export { QWEN3_FAMILY } from "./families/qwen3/qwen3-family.ts";
export {
  FAMILIES,
  familyByName,
  familyForHfConfig,
  registerFamily,
  supportedFamilies,
} from "./families/registry.ts";
export type { ForwardBatch, LogitsMode } from "./forward-batch.ts";
export type {
  ForceFeedBatchOptions,
  ForceFeedBatchResult,
  ForceFeedItem,
  ForceFeedItemResult,
} from "./generation/force-feed-batch.ts";
export { forceFeedBatch } from "./generation/force-feed-batch.ts";
export type { GenerateConfig, GenerateResult } from "./generation/generate.ts";
export { forceFeed, GENERATE_DEFAULTS, generate, resolveGenerateConfig } from "./generation/generate.ts";
export type { SamplingParams } from "./generation/sampling.ts";
export { sampleToken, samplingDistribution } from "./generation/sampling.ts";
export type { HarvestInput, PositionedTokens } from "./harvest/harvest.ts";
export { harvest } from "./harvest/harvest.ts";
export { ActivationCache } from "./hooks/activation-cache.ts";
export type { HookContext, HookFn, HookRunner, HookSpec } from "./hooks/hook-registry.ts";
export type { HookDim, HookSite } from "./hooks/hook-sites.ts";
export { DECODER_HOOK_SITES, insertHookSites } from "./hooks/hook-sites.ts";
export type { HookConfig, ParsedHookName } from "./hooks/hook-table.ts";
export { HOOK_SITES, hookNames, hookShape, parseHookName } from "./hooks/hook-table.ts";
export type { PerRowPositions, Positions } from "./hooks/positions.ts";
export type { DownloadOptions } from "./hub/download.ts";
export { downloadModel } from "./hub/download.ts";
export type { PatchOptions } from "./interventions/interventions.ts";
export {
  addVector,
  clampDirection,
  patchActivation,
  zeroAblateHead,
  zeroAblateMlp,
} from "./interventions/interventions.ts";
export { KvCache } from "./kv-cache.ts";
export type { LoadModelOptions } from "./loading/load-model.ts";
export { loadModel, readGenerationDefaults, readModelConfig } from "./loading/load-model.ts";
export { type HubCacheOptions, resolveModelFolder } from "./loading/model-folder.ts";
export type { SaveModelOptions } from "./loading/save-model.ts";
export { saveModelFolder, TOKENIZER_FILES } from "./loading/save-model.ts";
export type { LoraAdapter, LoraAdapterSpec, LoraConfig, LoraModule } from "./lora/peft-lora.ts";
export { loadLoraAdapter, loraConfigFromPeft, loraScaling, mergeLora, writeLoraAdapter } from "./lora/peft-lora.ts";
export type { ForwardOptions, GenerationDefaults, ModelInit, RunWithCacheOptions } from "./model.ts";
export { Model } from "./model.ts";
export type { RandomModelOptions, RandomQwen2Options } from "./random-model.ts";
export {
  createRandomModel,
  createRandomQwen2,
  randomQwen2Weights,
  randomWeights,
  writeRandomModelFolder,
  writeRandomQwen2Folder,
} from "./random-model.ts";
export type { TensorSource } from "./tensor-source.ts";
export { checkSourceTensors, f32Tensor, floatTensor, mapSource } from "./tensor-source.ts";
