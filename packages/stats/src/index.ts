// @difflens/stats: statistical tests, effect sizes, resampling and multiple-comparison correction with zero dependencies.
export { StatsError, type StatsErrorCode, type StatsErrorFacts } from "./errors.ts";
export type { Alternative, NanPolicy } from "./options.ts";
export { assertNotDegenerate, type DegenerateReason, type Sample } from "./samples.ts";
export type { Matrix, MatrixInput } from "./matrix.ts";

// Descriptives
export { sum, mean, variance, sampleVariance, populationVariance, standardDeviation, sem, meanWithSem } from "./descriptives.ts";
export { quantile, quantiles, median, resolveQuantileOptions, QUANTILE_METHODS, HYNDMAN_FAN_TYPES, type QuantileMethod, type QuantileOptions } from "./quantile.ts";
export { cosineSimilarity, cosineSimilarityMatrix, resolveCosineOptions, type CosineOptions } from "./cosine.ts";
export { averageRanks } from "./rank.ts";

// Effect sizes
export { cohensD, hedgesG, pairedDz, hedgesCorrection, resolveEffectSizeOptions, type EffectSize, type EffectSizeOptions } from "./effect-size.ts";

// Tests
export { welchTTest, pairedTTest, oneSampleTTest, resolveTTestOptions, type TTestOptions, type TTestResult } from "./t-test.ts";
export { binomialTest, signTest, resolveBinomialTestOptions, resolveSignTestOptions, type BinomialTestOptions, type BinomialTestResult, type SignTestOptions, type SignTestResult } from "./binomial-test.ts";
export { wilcoxonSignedRank, resolveWilcoxonOptions, type WilcoxonOptions, type WilcoxonResult } from "./wilcoxon.ts";

// Distributions and special functions
export { studentTCdf, studentTSf, studentTPdf, studentTQuantile, binomialPmf, binomialCdf, binomialSf } from "./special/distributions.ts";
export { normalCdf, normalSf, normalPdf, normalQuantile, erfc } from "./special/normal.ts";
export { regularizedBeta } from "./special/beta.ts";
export { logGamma, logBeta, regularizedGamma } from "./special/gamma.ts";

// Resampling
export { Rng, type Seed } from "./rng.ts";
export { twoSamplePermutationTest, signFlipPermutationTest, meanDifference, resolvePermutationOptions, type PermutationOptions, type PermutationResult, type TwoSampleStatistic, type PairedStatistic } from "./permutation.ts";
export { bootstrapConfidenceInterval, resolveBootstrapOptions, type BootstrapOptions, type BootstrapResult, type BootstrapStatistic } from "./bootstrap.ts";

// Multiple comparisons
export { adjustPValues, rejectHypotheses, resolvePAdjustOptions, type PAdjustMethod, type PAdjustOptions } from "./multiple-comparisons.ts";

// Seed analyses
export { projectionVsRandomDirections, resolveProjectionTestOptions, type ProjectionTestOptions, type ProjectionTestResult } from "./seed-analyses/projection-vs-random.ts";
export { differentialFeatures, resolveDifferentialFeaturesOptions, type DifferentialFeaturesOptions, type DifferentialFeaturesResult, type DifferentialFeature } from "./seed-analyses/differential-features.ts";
export { signBalanceTest, contiguousWindows, longestWindow, type SignBalanceResult, type LayerWindow } from "./seed-analyses/layer-windows.ts";
export { diffOfDiffs, meanSemByColumn, type DiffOfDiffsResult, type ColumnSummary } from "./seed-analyses/diff-of-diffs.ts";
