// diffing: stage-wise base-vs-chat model diffing with TopK SAEs. The app's public API (the CLI is src/cli/main.ts).
export { DiffingError, type DiffingErrorCode } from "./errors.ts";
export {
  STAGE_NAMES,
  DEFAULT_COMPARE,
  DEFAULT_FEATURES,
  loadDiffingConfig,
  resolveDiffingConfig,
  type StageName,
  type DiffingConfig,
  type ToyConfig,
  type StageConfig,
  type CompareConfig,
  type FeaturesConfig,
} from "./config/diffing-config.ts";
export { loadTrainConfig, resolveTrainConfig, type TrainConfig } from "./config/train-config.ts";
export type {
  TextDataConfig, ChatDataConfig, MaskConfig, SaeConfig, HarvestConfig, WandbConfig,
} from "./config/sections.ts";
export { main, COMMANDS } from "./cli/main.ts";
export { DEFAULT_CONFIG } from "./cli/pipeline-commands.ts";
export { openPipelineModels, type PipelineModels } from "./models/open-models.ts";
export { STAGES, readStageRecord, stageCheckpoint, stageDir, type StageRecord } from "./stages/stage-plan.ts";
export { trainStages, type TrainStagesOptions } from "./stages/pipeline.ts";
export { runCompare, loadStageSaes, type CompareResult } from "./compare/compare.ts";
export {
  latentCosines, rowCosines, twoStageRanking, type LatentCosines, type PairName,
} from "./compare/latent-cosines.ts";
export {
  leadingRightSingularVector, symmetricEigen, cosine, type LeadingDirection,
} from "./compare/leading-direction.ts";
export { runFeatures } from "./features/features.ts";
export { runDemo, formatDemo, type DemoOptions, type DemoResult } from "./demo/demo.ts";
export { checkRecovery, type RecoveryReport } from "./demo/recovery.ts";
export { ensureToyFiles, qwenTokenizerFile, TOY_HOOK, TOY_SHAPE, type ToyFiles } from "./toy/toy-files.ts";
export { toyDirections, IM_START_ID, IM_END_ID, ENDOFTEXT_ID, type ToySpec } from "./toy/toy-pair.ts";
export { maskRulesOf, specialId, textWindows, chatDataWindows, type StageWindow } from "./data/windows.ts";
export { activationStream, harvestBatches } from "./data/activation-stream.ts";
