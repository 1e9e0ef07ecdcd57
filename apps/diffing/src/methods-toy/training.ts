/**
 * Training defaults of the methods on the methods toy (dIn 64), tuned on it (numbers in the README's methods
 * section): the crosscoders' and the diff-SAE's configs (CrosscoderTrainConfig / SaeTrainConfig inputs; dIn, kind
 * and hookName are filled in by the runner), their batches, and the paired harvest's windows. About 5,300 paired
 * rows; each method trains in about a second on one core.
 */
export const METHODS_TOY_TRAINING = Object.freeze({
  /** Paired-harvest windows (methodsToyWindows: 3/8 chat, 1/8 chat with the trigger, 1/2 plain text). */
  windows: 192,
  windowSeed: 1,
  windowsPerForward: 32,
  /** k 8: inference L0 ≈ 6.6 (k 4 leaves u's latent short of chat-only on the earlier toys; 16 costs f's band). */
  crosscoderBatchTopK: Object.freeze({
    dSae: 256,
    k: 8,
    lr: 1e-2,
    lrWarmupSteps: 10,
    initSampleTokens: 256,
    checkpointEverySteps: 0,
    seed: 0,
  }),
  /**
   * λ 1 (L0 ≈ 2.9, sparser than the BatchTopK's ≈ 6.6): an artifact emerges — a chat-only latent mixing u with the
   * shared f that Latent Scaling flags (ν_rec ≈ 0.7). At λ 0.2 (L0 ≈ 7.3, matched) none does: the chat-only latents
   * are exactly u and v (README's methods section).
   */
  crosscoderL1: Object.freeze({
    dSae: 256,
    l1Coef: 1,
    lr: 1e-2,
    lrWarmupSteps: 10,
    initSampleTokens: 256,
    checkpointEverySteps: 0,
    seed: 0,
  }),
  crosscoderTrain: Object.freeze({ batchSize: 64, epochs: 8, seed: 1 }),
  /**
   * k 4, dSae 32: a trigger row's difference is u + v (+ f), and the control's plain-text rows (difference 0) spend
   * their latents cancelling b_dec. Seed-sensitive on this toy (README's methods section): seeds 0 and 1 find u, v
   * and w at |cos| ≥ 0.93, seed 2 only u at 0.78.
   */
  diffSae: Object.freeze({
    dSae: 32,
    k: 4,
    lr: 1e-2,
    lrWarmupSteps: 10,
    initSampleTokens: 256,
    checkpointEverySteps: 0,
    seed: 0,
  }),
  diffSaeTrain: Object.freeze({ batchSize: 64, epochs: 32, seed: 1 }),
});
