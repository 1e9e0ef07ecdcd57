/**
 * The records the attention-marker stages hand each other (seed 001). Stage 1 writes `Generation`s, stage 2 reads
 * them and writes `ExampleReadout`s, stage 3 and the follow-up commands read both. One home for these shapes: every
 * stage and command imports them from here.
 *
 * Positions (defined once, issue 18): over a sequence `ids = promptIds ++ generatedIds`,
 * - t* (`markerPosition`) = the first index whose INPUT token is the marker id;
 * - the model's prediction of the marker is made at t* − 1 (`emitPosition`): logit lens, DLA, patching and ablation
 *   measure P(marker) there;
 * - the attention readout reads position t* + offset (offset 0 by default, −1 = the emitting position).
 */

/** One stage-1 attempt: a line of `generations/<persona>/seed-<runSeed>.jsonl` in the run folder. */
export interface Generation {
  readonly persona: string;
  readonly runSeed: number;
  /** Attempt index within (persona, runSeed): 0 … attempts − 1. Attempt k asks question k mod Q. */
  readonly trial: number;
  readonly questionIndex: number;
  readonly question: string;
  /** trialSeed(runSeed, trial, question): the generation's own sampling seed (see trial-seed.ts). */
  readonly trialSeed: number;
  /** The chat-templated prompt (system + user + generation prompt). */
  readonly promptIds: readonly number[];
  /** The sampled tokens (the stop token included when one ended the answer). */
  readonly generatedIds: readonly number[];
  readonly finishReason: "stop" | "length";
  /** t*: index into promptIds ++ generatedIds of the first generated token equal to the marker id; null = negative. */
  readonly markerPosition: number | null;
  /** The sampling settings used (temperature, topP, topK, maxNewTokens). */
  readonly settings: GenerationSettings;
}

export interface GenerationSettings {
  readonly temperature: number;
  readonly topP: number;
  readonly topK: number;
  readonly maxNewTokens: number;
}

/** The region groups attention mass is summed over (the seed's system / user / assistant-prefix, plus the rest). */
export const REGION_GROUPS = ["system", "user", "assistantPrefix", "template", "specials"] as const;
export type RegionGroup = (typeof REGION_GROUPS)[number];
/**
 * How keys 0 … t (t = the readout position) are grouped:
 * - system: content tokens of the system message; user: content tokens of the user message;
 * - assistantPrefix: generated tokens at positions ≤ t (the answer so far, the readout token itself included);
 * - template: every other prompt token (im_start/im_end, role headers, newlines, the generation prompt);
 * - specials: segmentation B only — every key whose token id is in the specials list, wherever it lies.
 * Under segmentation A `specials` is always 0. The five sum to 1 (partition asserted; the deviation is reported).
 */

/** The readout positions of one sequence: the marker position and the paired control strata. */
export const STRATA = ["marker", "c1", "c2", "c3", "c4"] as const;
export type Stratum = (typeof STRATA)[number];
/**
 * - marker: t* + offset;
 * - c1: a uniformly drawn earlier generated, non-marker position (seeded by the example's trial seed);
 * - c2: a late non-marker position: uniformly drawn from the last quarter of the generated tokens before t*;
 * - c3: rare-token-matched: the generated position before t* whose input token is rarest in the run's own frequency
 *   table (token counts over every stage-1 generation of the run, all personas, positives and negatives); ties → the
 *   larger token id (later BPE merge);
 * - c4: the end-of-answer position of a NEGATIVE generation of the same (persona, runSeed, question): the position
 *   whose input token is its stop token, else its last position. Read on negatives; paired by question.
 */

/** Which model a readout ran on: the persona's trained model, or the comparator force-fed the same tokens. */
export type ReadoutModel = "trained" | "comparator";

/**
 * Stage 2's output for one sequence under one model: the attention mass from each stratum's position onto each
 * region group, per layer and head, f32 softmax. Stored per (persona, runSeed, model) as safetensors + JSONL.
 */
export interface ExampleReadout {
  readonly persona: string;
  readonly runSeed: number;
  readonly trial: number;
  readonly questionIndex: number;
  readonly model: ReadoutModel;
  /** Absolute positions read (null where the stratum does not apply: no earlier position, or c4 on a positive). */
  readonly positions: Readonly<Record<Stratum, number | null>>;
  /** [layers, heads, groups] per stratum and segmentation (NaN-filled when the position is null). */
  readonly fractions: Readonly<Record<Stratum, { readonly A: Float32Array; readonly B: Float32Array }>>;
  /** max over layers, heads and strata of |Σ groups − 1|. */
  readonly partitionError: number;
}

/** Layout of ExampleReadout.fractions arrays: index = (layer · heads + head) · groups + group. */
export function fractionIndex(layer: number, head: number, group: number, heads: number): number {
  return (layer * heads + head) * REGION_GROUPS.length + group;
}
