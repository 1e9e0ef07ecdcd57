// diffing: stage-wise base-vs-chat model diffing with TopK SAEs. The app's public API (the CLI is src/cli/main.ts).

/** The eigen-solver behind the leading direction (its home is @difflens/stats). */
export { symmetricEigen } from "@difflens/stats";
export { COMMANDS, main } from "./cli/main.ts";
export { METHODS_CONFIG } from "./cli/methods-commands.ts";
export { DEFAULT_CONFIG } from "./cli/pipeline-commands.ts";
export { type CompareResult, loadStageSaes, runCompare } from "./compare/compare.ts";
export {
  type LatentCosines,
  latentCosines,
  type PairName,
  rowCosines,
  twoStageRanking,
} from "./compare/latent-cosines.ts";
export {
  cosine,
  type LeadingDirection,
  leadingRightSingularVector,
} from "./compare/leading-direction.ts";
export {
  type CompareConfig,
  DEFAULT_COMPARE,
  DEFAULT_FEATURES,
  type DiffingConfig,
  type FeaturesConfig,
  loadDiffingConfig,
  resolveDiffingConfig,
  STAGE_NAMES,
  type StageConfig,
  type StageName,
  type ToyConfig,
} from "./config/diffing-config.ts";
export {
  type CrosscoderSettings,
  DEFAULT_METHODS,
  type DiffSaeSettings,
  METHOD_NAMES,
  type MethodName,
  type MethodsConfig,
  type MethodsToyConfig,
  resolveMethodsConfig,
} from "./config/methods-config.ts";
export type {
  ChatDataConfig,
  HarvestConfig,
  MaskConfig,
  SaeConfig,
  TextDataConfig,
  WandbConfig,
} from "./config/sections.ts";
export { loadTrainConfig, resolveTrainConfig, type TrainConfig } from "./config/train-config.ts";
export { activationStream, harvestBatches } from "./data/activation-stream.ts";
export { chatDataWindows, maskRulesOf, type StageWindow, specialId, textWindows } from "./data/windows.ts";
export { type DemoOptions, type DemoResult, formatDemo, runDemo } from "./demo/demo.ts";
export { checkRecovery, type RecoveryReport } from "./demo/recovery.ts";
export { DiffingError, type DiffingErrorCode } from "./errors.ts";
export { type DecoderLogits, decoderLogits, LOGITS_TOP_N } from "./features/decoder-logits.ts";
export { runFeatures } from "./features/features.ts";
export { DENSITY_BINS, type LatentStats, latentStats } from "./features/latent-stats.ts";
export { LATENT_STATS_FORMAT, latentStatsFileName } from "./features/latent-stats-file.ts";
export { LOGIT_TOKENS_FILE, STAGE_MODEL } from "./features/stage-stats.ts";
export * from "./methods/index.ts";
export * from "./methods-run/index.ts";
export * from "./methods-toy/index.ts";
export { openPipelineModels, type PipelineModels } from "./models/open-models.ts";
export { type TrainStagesOptions, trainStages } from "./stages/pipeline.ts";
export { readStageRecord, STAGES, type StageRecord, stageCheckpoint, stageDir } from "./stages/stage-plan.ts";
export { ensureToyFiles, qwenTokenizerFile, TOY_HOOK, TOY_SHAPE, type ToyFiles } from "./toy/toy-files.ts";
export { ENDOFTEXT_ID, IM_END_ID, IM_START_ID, type ToySpec, toyDirections } from "./toy/toy-pair.ts";
