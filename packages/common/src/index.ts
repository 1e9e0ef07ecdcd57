// @difflens/common: what every difflens package shares — the error base, nearest-name suggestions, atomic writes,
// the Hub cache location and one CLI parser. No dependencies.

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
export { findHubSnapshot, type HubSnapshotLookup, hubCacheDir, hubRepoFolderName, parseRepoId } from "./hub-cache.ts";
export { didYouMean, editDistance, nearest, rejectUnknownKeys, type UnknownKey, unknownKeys } from "./nearest.ts";
export { clock, compactNumber, ProgressBar, type ProgressBarOptions, type ProgressStream } from "./progress-bar.ts";
