// readouts: readouts of a chat model (seed 000's SAE conditions, steering). The CLI is src/cli/main.ts.

export { COMMANDS, main } from "./cli/main.ts";
export { formatSteer, STEER_COMMAND } from "./cli/steer-command.ts";
export {
  openSteerModels,
  type RunSteerOptions,
  runSteer,
  type SettingSummary,
  type SteerModels,
  type SteerResults,
} from "./steer/run-steer.ts";
export { type InterventionConfig, resolveSteerConfig, type SteerConfig } from "./steer/steer-config.ts";
export { SteerError } from "./steer/steer-error.ts";
export { toySteer, toySteerConfig } from "./steer/toy-steer.ts";
