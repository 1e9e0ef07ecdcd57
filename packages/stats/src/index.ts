// @difflens/stats: statistical tests, effect sizes, resampling and multiple-comparison correction with zero dependencies.

export {
  type BinomialTestOptions,
  type BinomialTestResult,
  binomialTest,
  resolveBinomialTestOptions,
  resolveSignTestOptions,
  type SignTestOptions,
  type SignTestResult,
  signTest,
} from "./binomial-test.ts";
export {
  type BootstrapOptions,
  type BootstrapResult,
  type BootstrapStatistic,
  bootstrapConfidenceInterval,
  resolveBootstrapOptions,
} from "./bootstrap.ts";
export {
  type CorrelationTestOptions,
  type CorrelationTestResult,
  correlationTest,
  spearmanCorrelation,
} from "./correlation.ts";
export { type CosineOptions, cosineSimilarity, cosineSimilarityMatrix, resolveCosineOptions } from "./cosine.ts";
// Descriptives
export {
  mean,
  meanWithSem,
  populationVariance,
  sampleVariance,
  sem,
  standardDeviation,
  sum,
  variance,
} from "./descriptives.ts";
// Effect sizes
export {
  cohensD,
  type EffectSize,
  type EffectSizeOptions,
  hedgesCorrection,
  hedgesG,
  pairedDz,
  resolveEffectSizeOptions,
} from "./effect-size.ts";
export { StatsError, type StatsErrorCode, type StatsErrorFacts } from "./errors.ts";
export type { Matrix, MatrixInput } from "./matrix.ts";
// Multiple comparisons
export {
  adjustPValues,
  type PAdjustMethod,
  type PAdjustOptions,
  rejectHypotheses,
  resolvePAdjustOptions,
} from "./multiple-comparisons.ts";
export type { Alternative, NanPolicy } from "./options.ts";
export {
  meanDifference,
  type PairedStatistic,
  type PermutationOptions,
  type PermutationResult,
  resolvePermutationOptions,
  signFlipPermutationTest,
  type TwoSampleStatistic,
  twoSamplePermutationTest,
} from "./permutation.ts";
export {
  HYNDMAN_FAN_TYPES,
  median,
  QUANTILE_METHODS,
  type QuantileMethod,
  type QuantileOptions,
  quantile,
  quantiles,
  resolveQuantileOptions,
} from "./quantile.ts";
export { averageRanks } from "./rank.ts";
// Resampling
export { Rng, type Seed } from "./rng.ts";
export { assertNotDegenerate, type DegenerateReason, type Sample } from "./samples.ts";
export {
  type ColumnSummary,
  type DiffOfDiffsResult,
  diffOfDiffs,
  meanSemByColumn,
} from "./seed-analyses/diff-of-diffs.ts";
export {
  type DifferentialFeature,
  type DifferentialFeaturesOptions,
  type DifferentialFeaturesResult,
  differentialFeatures,
  resolveDifferentialFeaturesOptions,
} from "./seed-analyses/differential-features.ts";
export { DEGENERATE_RELATIVE_SPREAD } from "./seed-analyses/latent-differences.ts";
export {
  contiguousWindows,
  type LayerWindow,
  longestWindow,
  type SignBalanceResult,
  signBalanceTest,
} from "./seed-analyses/layer-windows.ts";
export { type PairedMaxTOptions, type PairedMaxTResult, pairedMaxT } from "./seed-analyses/paired-max-t.ts";
export { RELATIVE_TIE_TOLERANCE } from "./seed-analyses/permutation-ties.ts";
// Seed analyses
export {
  type ProjectionTestOptions,
  type ProjectionTestResult,
  projectionVsRandomDirections,
  resolveProjectionTestOptions,
} from "./seed-analyses/projection-vs-random.ts";
export {
  type SeedPercentileRuleOptions,
  type SeedPercentileRuleResult,
  seedPercentileRule,
} from "./seed-analyses/seed-percentile-rule.ts";
export { type TrackAOptions, type TrackAResult, trackAProjection } from "./seed-analyses/track-a-projection.ts";
export { regularizedBeta } from "./special/beta.ts";
// Distributions and special functions
export {
  binomialCdf,
  binomialPmf,
  binomialSf,
  studentTCdf,
  studentTPdf,
  studentTQuantile,
  studentTSf,
} from "./special/distributions.ts";
export { logBeta, logGamma, regularizedGamma } from "./special/gamma.ts";
export { erfc, normalCdf, normalPdf, normalQuantile, normalSf } from "./special/normal.ts";
// Linear algebra
export { symmetricEigen } from "./symmetric-eigen.ts";
// Tests
export {
  oneSampleTTest,
  pairedTTest,
  resolveTTestOptions,
  type TTestOptions,
  type TTestResult,
  welchTTest,
} from "./t-test.ts";
export { resolveWilcoxonOptions, type WilcoxonOptions, type WilcoxonResult, wilcoxonSignedRank } from "./wilcoxon.ts";
