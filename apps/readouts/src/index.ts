// readouts: readouts of a chat model (seed 000's SAE conditions, steering, seed 001's attention at a marker). The CLI
// is src/cli/main.ts.

export {
  type AttentionMarkerConfig,
  loadAttentionMarkerConfig,
  type PersonaConfig,
  readRunConfig,
  resolveAttentionMarkerConfig,
} from "./attention-marker/config.ts";
export { type GenerationCounts, runGenerateStage } from "./attention-marker/generate-stage.ts";
export { generationsFile, readGenerations } from "./attention-marker/generations-file.ts";
export { resolveMarkerId } from "./attention-marker/marker-token.ts";
export { readQuestions } from "./attention-marker/questions.ts";
export type { AttentionMarkerResults, SkippedEntry } from "./attention-marker/results.ts";
export {
  prepareAttentionMarker,
  type RunAttentionMarkerOptions,
  runAttentionMarker,
} from "./attention-marker/run-attention-marker.ts";
export { STAGES, type Stage } from "./attention-marker/stage-records.ts";
export { trialSeed } from "./attention-marker/trial-seed.ts";

export { FOLLOW_UP_COMMANDS } from "./cli/follow-up-commands.ts";
export { COMMANDS, main } from "./cli/main.ts";
export { formatSteer, STEER_COMMAND } from "./cli/steer-command.ts";
export { ReadoutsError, type ReadoutsErrorCode } from "./errors.ts";
export type { FollowUpOptions, FollowUpOutcome } from "./follow-ups/run-follow-up.ts";
export { runAblateMlp, runDla, runLogitLens, runPatch } from "./follow-ups/run-follow-ups.ts";
export type { Similarity, TopFeature, TrackAPairResult, TrackBPairResult } from "./sae-conditions/analyze-layer.ts";
export type { BehaviourLayerResult } from "./sae-conditions/behaviour-link.ts";
export {
  type BehaviourConfig,
  loadSaeConditionsConfig,
  resolveSaeConditionsConfig,
  type SaeConditionsConfig,
  type TrackAConfig,
  type TrackBConfig,
} from "./sae-conditions/config.ts";
export type { DegeneracyWarning } from "./sae-conditions/degeneracy.ts";
export { BUILTIN_PROMPTS_FILE, type Prompt, readPrompts } from "./sae-conditions/prompt-files.ts";
export { parseReadoutPosition, type ReadoutPosition } from "./sae-conditions/readout-position.ts";
export type { LayerResults, SaeConditionsResults } from "./sae-conditions/results.ts";
export {
  prepareSaeConditions,
  type RunSaeConditionsOptions,
  runSaeConditions,
} from "./sae-conditions/run-sae-conditions.ts";
export {
  openSteerModels,
  type RunSteerOptions,
  runSteer,
  type SettingSummary,
  type SteerModels,
  type SteerResults,
} from "./steer/run-steer.ts";
export { type InterventionConfig, resolveSteerConfig, type SteerConfig } from "./steer/steer-config.ts";
export { toySteer, toySteerConfig } from "./steer/toy-steer.ts";
