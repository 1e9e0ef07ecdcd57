// @difflens/app-kit: the app-support layer for difflens experiment apps (imported by apps only, never by a package).
export { AppKitError, type AppKitErrorCode } from "./errors.ts";
export {
  configFields,
  deepFreeze,
  type ConfigFields,
  type ConfigErrorClass,
  type ConfigErrorCode,
  type NumberCheck,
} from "./config/fields.ts";
export { loadConfigFile, type ConfigResolver } from "./config/config-file.ts";
export {
  runAppCli,
  CONFIG_ERROR_CODES,
  CONFIG_FLAG,
  RUN_DIR_FLAG,
  WANDB_FLAG,
  type AppCliOptions,
} from "./cli/app-cli.ts";
export { openRunFolder, writeJsonLines, relativePaths } from "./run/run-folder.ts";
export {
  FORCE_FLAG,
  isNonEmptyFolder,
  refuseExistingOutput,
  startOutputFolder,
  writeOutputFolder,
  retireFolder,
  type OutputFolderOptions,
  type PendingOutputFolder,
} from "./run/output-folder.ts";
export {
  recordRun,
  readRunRecord,
  startRunEvent,
  packageVersions,
  gitCommit,
  type RunEvent,
  type RecordedRunEvent,
  type RunInfo,
  type RunRecord,
} from "./run/run-record.ts";
export { fileSha256, folderFingerprint } from "./fingerprint/file-hash.ts";
export { modelFingerprint, type ModelFingerprint } from "./fingerprint/model-fingerprint.ts";
export {
  fingerprintDigest,
  diffFingerprints,
  formatFieldChanges,
  type FieldChange,
} from "./fingerprint/fingerprint-diff.ts";
export { resolveModelRef, describeModelRef, type ModelRef } from "./models/model-ref.ts";
export {
  openModel,
  openModelPair,
  loadModelRef,
  chatTemplateFor,
  type OpenedModel,
  type ModelPair,
} from "./models/open-model.ts";
export {
  maxActivatingContexts,
  type ContextWindow,
  type ActivationExample,
  type LatentExamples,
  type MaxActivatingOptions,
} from "./features/max-activating.ts";
export { featurePage, type FeaturePageLatent, type FeaturePageOptions } from "./features/feature-page.ts";
