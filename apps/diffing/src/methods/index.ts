// The methods beside stage-wise diffing (issue 21): paired harvest and store, diff-SAE, ADL, crosscoders.
export {
  type AdlBucket,
  type AdlResult,
  activationDifferenceLens,
  adlLogitLens,
  type LensToken,
  writeAdlSteeringVector,
} from "./adl.ts";
export { type CrosscoderLatent, runCrosscoderMethod } from "./crosscoder-method.ts";
export { type DiffMethodsOptions, type DiffMethodsSummary, runDiffMethods } from "./diff-methods.ts";
export { type DiffLatent, type DiffSaeResult, topDiffLatents, trainDiffSae } from "./diff-sae.ts";
export { pairActivationStores } from "./pair-stores.ts";
export { assistantStartAfter, type PairedHarvestOptions, type PairedWindow, pairedHarvest } from "./paired-harvest.ts";
export {
  differenceSource,
  PAIRED_STORE_FORMAT,
  PAIRED_STORE_VERSION,
  type PairedRows,
  PairedStore,
  type PairedStoreManifest,
  type PairedStoreProvenance,
  PairedStoreWriter,
  type RowRecord,
} from "./paired-store.ts";
