// @difflens/wandb: Weights & Biases tracking with a durable local run folder and sync.
export { init, generateRunId, type Say } from "./init.ts";
export { WandbRun, type FinishResult } from "./run.ts";
export { syncRunFolder, type SyncOptions, type SyncReport } from "./sync.ts";
export { type RunLogger, nullLogger, consoleLogger } from "./logger.ts";
export { WandbError, type WandbErrorCode, type WandbErrorFacts } from "./errors.ts";
export {
  resolveInitOptions,
  resolveStreamOptions,
  DEFAULT_INIT,
  DEFAULT_STREAM,
  DEFAULT_RETRY,
  type InitOptions,
  type StreamOptions,
  type RetryOptions,
  type RunMode,
} from "./options.ts";
export { type MetricValue } from "./metrics.ts";
export { stringifyWandbJson, parseWandbJson } from "./wandb-json.ts";
export { readManifest } from "./folder/run-folder.ts";
export { FILES as RUN_FOLDER_FILES, type RunManifest, type ExitRecord } from "./folder/layout.ts";
