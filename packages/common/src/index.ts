// @difflens/common: what every difflens package shares — the error base, nearest-name suggestions, atomic file and
// folder writes, the Hub cache location, one CLI parser and the progress bar. No dependencies.

export { type AtomicWriteOptions, tempPathBeside, writeFileAtomic, writeJsonAtomic } from "./atomic-write.ts";
export {
  type FlagSpec,
  type FlagValue,
  formatHelp,
  type ParsedCommandLine,
  type ParsedFlags,
  type PositionalSpec,
  parseCommandLine,
  UsageError,
  withHelp,
} from "./cli/flags.ts";
export {
  type CliOptions,
  type Command,
  type CommandContext,
  EXIT_FAILED,
  EXIT_OK,
  EXIT_USAGE,
  isMainModule,
  type Log,
  reportError,
  runCommand,
  runCommandTable,
} from "./cli/run-cli.ts";
export { DifflensError, type DifflensErrorOptions, describeFacts, type ErrorFacts, isDifflensError } from "./errors.ts";
export { sha256File } from "./file-hash.ts";
export {
  findHubSnapshot,
  type HubSnapshotLookup,
  hubCacheDir,
  hubRepoFolderName,
  parseRepoId,
  repoIdOfHubFolder,
} from "./hub-cache.ts";
export { didYouMean, editDistance, nearest, rejectUnknownKeys, type UnknownKey, unknownKeys } from "./nearest.ts";
export {
  checkOutputOutside,
  checkOutputPath,
  type OutputErrorCode,
  type OutputOptions,
  OutputPathError,
  type PendingFolder,
  startFolderAtomic,
  writeFolderAtomic,
} from "./output-folder.ts";
export { clock, compactNumber, ProgressBar, type ProgressBarOptions, type ProgressStream } from "./progress-bar.ts";
