// @difflens/common: what every difflens package shares — the error base, nearest-name suggestions, atomic writes,
// the Hub cache location and one CLI parser. No dependencies.
export { DifflensError, isDifflensError, describeFacts, type ErrorFacts, type DifflensErrorOptions } from "./errors.ts";
export { editDistance, nearest, didYouMean, unknownKeys, rejectUnknownKeys, type UnknownKey } from "./nearest.ts";
export { writeFileAtomic, writeJsonAtomic, tempPathBeside, type AtomicWriteOptions } from "./atomic-write.ts";
export {
  writeFolderAtomic,
  checkOutputPath,
  checkOutputOutside,
  OutputPathError,
  type OutputErrorCode,
  type OutputOptions,
} from "./output-folder.ts";
export {
  hubCacheDir,
  hubRepoFolderName,
  repoIdOfHubFolder,
  parseRepoId,
  findHubSnapshot,
  type HubSnapshotLookup,
} from "./hub-cache.ts";
export {
  parseCommandLine,
  formatHelp,
  withHelp,
  UsageError,
  type FlagSpec,
  type PositionalSpec,
  type FlagValue,
  type ParsedFlags,
  type ParsedCommandLine,
} from "./cli/flags.ts";
export {
  runCommandTable,
  runCommand,
  reportError,
  isMainModule,
  EXIT_OK,
  EXIT_FAILED,
  EXIT_USAGE,
  type Command,
  type CommandContext,
  type CliOptions,
  type Log,
} from "./cli/run-cli.ts";
export { ProgressBar, compactNumber, clock, type ProgressBarOptions, type ProgressStream } from "./progress-bar.ts";
