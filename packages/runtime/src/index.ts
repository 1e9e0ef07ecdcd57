// @difflens/runtime: Transformer forward passes with hook points, caching, generation and interventions.
export {};
