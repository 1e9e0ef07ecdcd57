// @difflens/runtime: Transformer forward passes with hook points, caching, generation and interventions.

/** The one token-batch type, declared in @difflens/tokenizer (with `padTokenRows`, which lays one out). */
export type { TokenBatch } from "@difflens/tokenizer";
export { directLogitAttribution, klDivergence, logitLens, perTokenLoss } from "./analysis/analysis.ts";
export { type TokenStanding, tokenStandings } from "./analysis/token-probability.ts";
export type { LogitsMode } from "./architectures/qwen2.ts";
export type { Qwen2LayerWeights, Qwen2Weights, TensorSource } from "./architectures/qwen2-weights.ts";
export { mapSource, qwen2WeightShapes } from "./architectures/qwen2-weights.ts";
export type { TokenArrays, TokenInput } from "./batch.ts";
export { leftPad, prepareBatch, toTokenBatch } from "./batch.ts";
export type { Qwen2Config } from "./config/qwen2-config.ts";
export { QWEN2_DEFAULTS, qwen2ConfigFromHf, qwen2ConfigToHf, resolveQwen2Config } from "./config/qwen2-config.ts";
export type { RuntimeErrorCode } from "./errors.ts";
export { CheckpointError, ConfigError, HookError, HubError, InputError, LoraError, RuntimeError } from "./errors.ts";
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
export type { HookContext, HookFn, HookSpec } from "./hooks/hook-registry.ts";
export type { HookDim, HookSite, ParsedHookName } from "./hooks/hook-table.ts";
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
export type { RandomQwen2Options } from "./random-model.ts";
export { createRandomQwen2, randomQwen2Weights, writeRandomQwen2Folder } from "./random-model.ts";
