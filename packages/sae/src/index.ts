// @difflens/sae: TopK sparse autoencoders: encode/decode, training, finetuning, formats, metrics.
export { SaeError, type SaeErrorCode } from "./errors.ts";
export { Sae, type SaeActivation, type SaeSpec, type SaeWeights, type InputNormalization } from "./sae.ts";
export { codesToDense, codesL0, type SparseCodes } from "./sparse-codes.ts";
export { DEFAULT_SAE_TRAIN_CONFIG, resolveSaeTrainConfig, lrAt, peakLr, effectiveKAux, type SaeTrainConfig } from "./train/config.ts";
export { trainSae, type TrainSaeOptions, type TrainSaeResult } from "./train/trainer.ts";
export { trainStep, forwardBackward, applyUpdate, StepScratch, type StepStats } from "./train/sparse-step.ts";
export { newTrainState, initParams, type TrainState, type TrainParams } from "./train/train-state.ts";
export { geometricMedian } from "./train/geometric-median.ts";
export { densityHistogram, type MetricsLogger } from "./metrics-logger.ts";
export { spliceMetrics, type SpliceModel, type SpliceMetrics } from "./splice.ts";
export {
  loadCheckpoint, saveTrainCheckpoint, latestCheckpoint, saeFromCheckpoint, writeSaeFolder, writeCheckpointWeights,
  DIFFLENS_SAE_FORMAT_VERSION, type DifflensBlock, type LineageEntry, type LoadedCheckpoint,
} from "./checkpoint.ts";
export {
  detectSaeFormat, loadSae, writeSaeLens, writeSparsify, SAE_WEIGHTS_FILE, type SaeFormat, type LoadSaeOptions,
} from "./formats/formats.ts";
export { readTorchStateDict, type TorchTensor } from "./formats/torch-load.ts";
export { readPickle, PICKLE_ALLOW_LIST } from "./formats/pickle.ts";
export {
  convertSae, CONVERT_TARGETS, type ConvertTarget, type ConvertOptions, type ConvertResult,
} from "./formats/convert.ts";
