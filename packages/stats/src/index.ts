// @difflens/stats: Statistical tests, effect sizes, resampling and multiple-comparison correction with zero dependencies.
export {};
