import type { ErrorPanel } from "./run-types.ts";

/** The stages of seed 003's stage-wise diffing. D and S read the base model; M, DF and MF the chat model. */
export type StageName = "S" | "D" | "M" | "DF" | "MF";
export const STAGES: readonly StageName[] = ["S", "D", "M", "DF", "MF"];

/** One latent of compare/latents.json as a scatter point. */
export interface ScatterPoint {
  latent: number;
  /** cos(D, DF) (decoder or encoder rows, by `space`). */
  x: number;
  /** cos(M, MF). */
  y: number;
  /** Rank by x + y ascending (1 = most rotated). */
  rank: number;
  /** Whether the features command stored contexts for it (the point gets a label and a link). */
  hasContexts: boolean;
}

export interface ScatterResponse {
  run: string;
  space: "decoder" | "encoder";
  dSae: number;
  hook: string;
  threshold: number;
  xTitle: string;
  yTitle: string;
  points: ScatterPoint[];
  errors: ErrorPanel[];
}

/** The diffing run page: scatter summary, stages, ranking, the run-level density histogram. */
export interface DiffingRunResponse {
  run: string;
  name: string;
  hook: string | null;
  dSae: number | null;
  stages: { stage: StageName; status: string; checkpoint: string | null; model: string | null; step: number | null }[];
  /** compare/ranking.json: latents by the two-stage ranking (decoder) and by the encoder ranking. */
  top: number[];
  encoderTop: number[];
  /** Firing frequency over the features dataset, log10 bins over all latents, per stage present. */
  densityHistograms: { stage: StageName; edgesLog10: number[]; counts: number[]; dead: number; tokens: number }[];
  /** Figures of the run (compare/*.json), rendered as images/links. */
  figures: { file: string; png: string | null; title: string | null }[];
  errors: ErrorPanel[];
}

/** One max-activating context: tokens with the latent's activation at each. */
export interface FeatureContext {
  window: number;
  tokens: string[];
  tokenIds: number[];
  values: number[];
  maxValue: number;
  maxPosition: number;
}

export interface FeatureContexts {
  /** The stage whose SAE gave these activations: D on the base model, MF on the chat model. */
  stage: StageName;
  model: "base" | "chat";
  density: number;
  maxValue: number;
  examples: FeatureContext[];
}

export interface LogitEntry {
  token: string;
  id: number;
  value: number;
}

export interface FeaturePageResponse {
  run: string;
  stage: StageName;
  latent: number;
  dSae: number;
  hook: string;
  rank: number | null;
  /** Max-activating contexts, base (D) and chat (MF) side by side; null with a note when not stored. */
  contexts: { base: FeatureContexts | null; chat: FeatureContexts | null; note: string | null };
  /** Decoder and encoder cosines of this latent between stage pairs, e.g. { "S→D": 0.81, "D→DF": 0.98 }. */
  cosines: { decoder: Record<string, number>; encoder: Record<string, number> };
  /** Top logits of this stage's decoder direction through an unembedding: base model for S and D, chat for M, DF, MF. */
  logits: { unembedding: "base" | "chat"; positive: LogitEntry[]; negative: LogitEntry[] } | null;
  /** This latent's firing frequency and the histogram of its nonzero activations over the features dataset. */
  density: { frequency: number; tokens: number; edges: number[]; counts: number[] } | null;
  /** Stages in which this latent index exists (links to the same latent there). */
  otherStages: StageName[];
  errors: ErrorPanel[];
}
