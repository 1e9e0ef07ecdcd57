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
export { PICKLE_ALLOW_LIST, readPickle } from "./formats/pickle.ts";
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
export { applyUpdate, forwardBackward, StepScratch, type StepStats, trainStep } from "./train/sparse-step.ts";
export { type DeviceStepOptions, trainStepDevice } from "./train/sparse-step-device.ts";
export { initParams, newTrainState, type TrainParams, type TrainState } from "./train/train-state.ts";
export { type TrainSaeOptions, type TrainSaeResult, trainSae } from "./train/trainer.ts";
