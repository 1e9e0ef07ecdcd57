/**
 * Training defaults for the methods on the methods toy (dIn 64), tuned on it (see methods-toy.test.ts and the
 * README's methods section): the crosscoders' and the diff-SAE's configs (CrosscoderTrainConfig / SaeTrainConfig
 * inputs; dIn, kind and hookName are filled in by the runner), their batches, and the harvest's windows.
 */
export const METHODS_TOY_TRAINING = Object.freeze({
  /** Paired-harvest windows (a quarter chat with the trigger, a quarter chat without, half plain text). */
  windows: 192,
  windowSeed: 1,
  windowsPerForward: 32,
  crosscoderBatchTopK: Object.freeze({
    dSae: 256,
    k: 8,
    lr: 1e-2,
    lrWarmupSteps: 10,
    initSampleTokens: 256,
    checkpointEverySteps: 0,
    seed: 0,
  }),
  crosscoderL1: Object.freeze({
    dSae: 256,
    l1Coef: 0.1,
    lr: 1e-2,
    lrWarmupSteps: 10,
    initSampleTokens: 256,
    checkpointEverySteps: 0,
    seed: 0,
  }),
  crosscoderTrain: Object.freeze({ batchSize: 64, epochs: 8, seed: 1 }),
  diffSae: Object.freeze({
    dSae: 32,
    k: 2,
    lr: 3e-3,
    lrWarmupSteps: 10,
    initSampleTokens: 256,
    checkpointEverySteps: 0,
    seed: 0,
  }),
  diffSaeTrain: Object.freeze({ batchSize: 64, epochs: 4, seed: 1 }),
});
