// The methods runner (issue 21): one paired harvest, then crosscoders, diff-SAE + ADL and stage-wise diffing into one
// run folder that `methods-report` turns into a page.
export { collectDirections, type HeadlineDirection, writeDirections } from "./directions.ts";
export { finishedRecord, METHOD_RECORD, type MethodRecord, runUnit, unitHash } from "./method-folder.ts";
export { type MethodsPair, methodsPair, openMethodsModels } from "./methods-pair.ts";
export {
  METHOD_FOLDERS,
  METHODS_RUN_FORMAT,
  METHODS_RUN_VERSION,
  type MethodsProgress,
  type MethodsRunOptions,
  type MethodsRunSummary,
  runMethods,
} from "./run-methods.ts";
export { runStagewiseMethod, stagewiseConfig } from "./stagewise-method.ts";
