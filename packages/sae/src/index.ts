// @difflens/sae: TopK sparse autoencoders: encode/decode, training, finetuning, formats, metrics.

export {
  DIFFLENS_SAE_FORMAT_VERSION,
  type DifflensBlock,
  type LineageEntry,
  type LoadedCheckpoint,
  latestCheckpoint,
  loadCheckpoint,
  saeFromCheckpoint,
  saveTrainCheckpoint,
  writeCheckpointWeights,
  writeSaeFolder,
} from "./checkpoint.ts";
// ---- crosscoders (two models, one hook): BatchTopK and L1, Latent Scaling ----
export {
  DEFAULT_NORM_BANDS,
  decoderCosines,
  latentsByBand,
  type NormBand,
  type NormBands,
  normBand,
  relativeDecoderNorms,
  relativeNormHistogram,
} from "./crosscoder/analysis.ts";
export { type BatchSelection, selectAcrossBatch } from "./crosscoder/batch-topk.ts";
export { batchTopKCrosscoderStep, CrosscoderScratch } from "./crosscoder/batch-topk-step.ts";
export { batchTopKCrosscoderStepDevice } from "./crosscoder/batch-topk-step-device.ts";
export {
  CROSSCODER_FORMAT,
  CROSSCODER_FORMAT_VERSION,
  CROSSCODER_WEIGHTS_FILE,
  type CrosscoderBlock,
  crosscoderFromCheckpoint,
  type LoadedCrosscoderCheckpoint,
  loadCrosscoder,
  loadCrosscoderCheckpoint,
  saveCrosscoderCheckpoint,
} from "./crosscoder/checkpoint.ts";
export {
  type CrosscoderKind,
  type CrosscoderTrainConfig,
  crosscoderKAux,
  crosscoderLrAt,
  DEFAULT_CROSSCODER_TRAIN_CONFIG,
  resolveCrosscoderTrainConfig,
} from "./crosscoder/config.ts";
export { Crosscoder, type CrosscoderSpec } from "./crosscoder/crosscoder.ts";
export { CrosscoderDeviceState } from "./crosscoder/device-state.ts";
export { L1Scratch, l1CrosscoderStep } from "./crosscoder/l1-step.ts";
export { l1CrosscoderStepDevice } from "./crosscoder/l1-step-device.ts";
export { isChatSpecific, type LatentScalingResult, latentScaling } from "./crosscoder/latent-scaling.ts";
export {
  checkPairedBatch,
  type PairedActivationSource,
  type PairedBatch,
  type PairNames,
  pairedArraySource,
  pairSources,
} from "./crosscoder/paired-source.ts";
export {
  type CrosscoderParams,
  type CrosscoderTrainState,
  decoderNorms,
  initCrosscoderParams,
  newCrosscoderTrainState,
} from "./crosscoder/state.ts";
export type { CrosscoderStepStats } from "./crosscoder/step-common.ts";
export {
  type TrainCrosscoderOptions,
  type TrainCrosscoderResult,
  trainCrosscoder,
} from "./crosscoder/trainer.ts";
export { SaeError, type SaeErrorCode } from "./errors.ts";
export {
  CONVERT_TARGETS,
  type ConvertOptions,
  type ConvertResult,
  type ConvertTarget,
  convertSae,
} from "./formats/convert.ts";
export { loadDictionaryLearning, writeDictionaryLearning } from "./formats/dictionary-learning.ts";
export {
  detectSaeFormat,
  type LoadSaeOptions,
  loadSae,
  SAE_WEIGHTS_FILE,
  type SaeFormat,
  saeWeightsSha256,
  writeSaeLens,
  writeSparsify,
} from "./formats/formats.ts";
export { gemmaScopeHook, loadGemmaScope, readNpz } from "./formats/gemma-scope.ts";
export { type NpyArray, type NpyDType, type ReadNpyOptions, readNpy } from "./formats/npy.ts";
export { PICKLE_ALLOW_LIST, readPickle } from "./formats/pickle.ts";
export { type LoadQwenScopeOptions, loadQwenScope } from "./formats/qwen-scope.ts";
export { readSaeShape, type SaeShape } from "./formats/sae-shape.ts";
export { readTorchStateDict, type TorchTensor } from "./formats/torch-load.ts";
export { type TorchSaveTensor, writeTorchStateDict } from "./formats/torch-save.ts";
export { densityHistogram, type MetricsLogger } from "./metrics-logger.ts";
export { type InputNormalization, Sae, type SaeActivation, type SaeSpec, type SaeWeights } from "./sae.ts";
export { codesL0, codesToDense, type SparseCodes } from "./sparse-codes.ts";
export { type SpliceMetrics, type SpliceModel, spliceMetrics } from "./splice.ts";
export { readDirectionFile } from "./steering/direction-file.ts";
export type { SteeringCall, SteeringHook, SteeringPositions } from "./steering/steering-hook.ts";
export {
  type AddDirectionOptions,
  addDirectionHook,
  type ClampLatentOptions,
  clampLatentHook,
  saeDecoderDirection,
} from "./steering/steering-hooks.ts";
export {
  DEFAULT_SAE_TRAIN_CONFIG,
  effectiveKAux,
  lrAt,
  peakLr,
  resolveSaeTrainConfig,
  type SaeTrainConfig,
} from "./train/config.ts";
export { type DeviceParams, DeviceTrainState } from "./train/device-train-state.ts";
export { geometricMedian } from "./train/geometric-median.ts";
export {
  applyUpdate,
  encoderChunkRows,
  forwardBackward,
  StepScratch,
  type StepStats,
  trainStep,
} from "./train/sparse-step.ts";
export { type DeviceStepOptions, trainStepDevice } from "./train/sparse-step-device.ts";
export { initParams, newTrainState, type TrainParams, type TrainState } from "./train/train-state.ts";
export { type TrainSaeOptions, type TrainSaeResult, trainSae } from "./train/trainer.ts";
