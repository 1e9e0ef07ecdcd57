// @difflens/wandb: Weights & Biases tracking with a durable local run folder and sync.

export { WandbError, type WandbErrorCode, type WandbErrorFacts } from "./errors.ts";
export { type ExitRecord, FILES as RUN_FOLDER_FILES, type RunManifest } from "./folder/layout.ts";
export { readManifest } from "./folder/run-folder.ts";
export { generateRunId, init, type Say } from "./init.ts";
export { consoleLogger, nullLogger, type RunLogger } from "./logger.ts";
export type { MetricValue } from "./metrics.ts";
export {
  DEFAULT_INIT,
  DEFAULT_RETRY,
  DEFAULT_STREAM,
  type InitOptions,
  type RetryOptions,
  type RunMode,
  resolveInitOptions,
  resolveStreamOptions,
  type StreamOptions,
} from "./options.ts";
export { type FinishResult, WandbRun } from "./run.ts";
export { type SyncOptions, type SyncReport, syncRunFolder } from "./sync.ts";
export { parseWandbJson, stringifyWandbJson } from "./wandb-json.ts";
