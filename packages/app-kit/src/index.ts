// @difflens/app-kit: the app-support layer for difflens experiment apps (imported by apps only, never by a package).

export {
  type AppCliOptions,
  BACKEND_FLAG,
  CONFIG_ERROR_CODES,
  CONFIG_FLAG,
  chooseBackend,
  DRY_RUN_FLAG,
  RUN_DIR_FLAG,
  runAppCli,
  WANDB_FLAG,
} from "./cli/app-cli.ts";
export { type AppFlagSpec, invocationDir, resolvePathFlags } from "./cli/command-paths.ts";
export { type RerunHintOptions, rerunCommandLine, shellQuote, withRerunHint } from "./cli/rerun-hint.ts";
export { type ConfigResolver, loadConfigFile } from "./config/config-file.ts";
export {
  type ConfigErrorClass,
  type ConfigErrorCode,
  type ConfigFields,
  configFields,
  deepFreeze,
  type NumberCheck,
} from "./config/fields.ts";
export { AppKitError, type AppKitErrorCode } from "./errors.ts";
export { type FeaturePageLatent, type FeaturePageOptions, featurePage } from "./features/feature-page.ts";
export {
  type ActivationExample,
  type ContextWindow,
  type LatentExamples,
  type MaxActivatingOptions,
  maxActivatingContexts,
} from "./features/max-activating.ts";
export { fileSha256, folderFingerprint } from "./fingerprint/file-hash.ts";
export {
  diffFingerprints,
  type FieldChange,
  fingerprintDigest,
  formatFieldChanges,
} from "./fingerprint/fingerprint-diff.ts";
export { type ModelFingerprint, modelFingerprint } from "./fingerprint/model-fingerprint.ts";
export { describeModelRef, type ModelRef, resolveModelRef } from "./models/model-ref.ts";
export {
  chatTemplateFor,
  loadModelRef,
  type ModelPair,
  type OpenedModel,
  openModel,
  openModelPair,
} from "./models/open-model.ts";
export { checkModelFolder, hookWidth, type ModelFolderCheck } from "./preflight/model-folder.ts";
export { type ColumnKind, checkParquetColumns, type ParquetCheck } from "./preflight/parquet-columns.ts";
export { Preflight, type PreflightProblem } from "./preflight/preflight.ts";
export {
  checkFreeDisk,
  checkWritableFolder,
  formatBytes,
  freeDiskBytes,
  nearestExisting,
} from "./preflight/writable-folder.ts";
export {
  FORCE_FLAG,
  isNonEmptyFolder,
  type OutputFolderOptions,
  refuseExistingOutput,
  retireFolder,
  startOutputFolder,
  writeOutputFolder,
} from "./run/output-folder.ts";
export { openRunFolder, relativePaths, writeJsonLines } from "./run/run-folder.ts";
export {
  gitCommit,
  packageVersions,
  type RecordedRunEvent,
  type RunEvent,
  type RunInfo,
  type RunRecord,
  readRunRecord,
  recordRun,
  startRunEvent,
} from "./run/run-record.ts";
export {
  type LoraFactor,
  MARKER_HEAD_GAINS,
  type MarkerHeadDirections,
  type MarkerHeadGains,
  type MarkerHeadPlace,
  markerHeadDirections,
  markerHeadLora,
  markerRead,
  prepareMarkerHeadBase,
} from "./toy/marker-head-plant.ts";
export {
  ENDOFTEXT_ID,
  IM_END_ID,
  IM_START_ID,
  QWEN_VOCAB_SIZE,
  qwenTokenizerFile,
  qwenToyConfig,
  type ToyShape,
  writeToyAdapter,
  writeToyModelFolder,
} from "./toy/toy-model-folder.ts";
