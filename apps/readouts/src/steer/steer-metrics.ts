/**
 * One prompt under one steering setting, measured against the same prompt unsteered:
 * - the generated text both ways (same seed);
 * - next-token KL(steered ‖ unsteered) at the generation start (the distribution the first new token comes from);
 * - each target token's probability and rank there, and its mean probability at the positions of the force-fed text
 *   whose next token it is ("where the text puts it");
 * - with a reference model: KL(reference ‖ model) before and after steering, averaged over the force-fed prompt +
 *   continuation (the reference's own greedy continuation, so before and after read the same text) from the first
 *   steered position on (earlier positions cannot change).
 */
import { generate, klDivergence, type Model, tokenStandings } from "@difflens/runtime";
import type { SteeringHook, SteeringPositions } from "@difflens/sae";
import { Tensor } from "@difflens/tensor";

export interface PromptInput {
  readonly id: string;
  readonly text: string;
  /** The rendered chat prompt (ends with the assistant header). // [promptLength] */
  readonly ids: readonly number[];
  /** First real position steering acts on (0 for "all", the prompt length for "generated"). */
  readonly firstSteered: number;
  /** The same, as the hooks take it. */
  readonly positions: SteeringPositions;
}

export interface GenerateSettings {
  readonly maxNewTokens: number;
  readonly temperature: number;
  readonly seed: number;
}

/** What a prompt needs from its unsteered run: computed once, shared by every setting. */
export interface PromptBaseline {
  readonly tokens: readonly number[];
  readonly startLogits: Tensor; // [vocab]
  /** prompt + continuation (the reference's, else the model's own). // [seqLength] */
  readonly fed: readonly number[];
  readonly fedLogits: Tensor; // [seqLength, vocab]
  readonly referenceLogits: Tensor | null; // [seqLength, vocab]
}

export interface TargetStanding {
  readonly token: string;
  readonly id: number;
  readonly probability: number;
  readonly rank: number;
  /** Mean probability at the force-fed positions whose next token is this one (null when there are none). */
  readonly whereNext: number | null;
  readonly whereNextCount: number;
}

export interface PromptMeasure {
  readonly id: string;
  readonly tokens: readonly number[];
  readonly nextTokenKl: number;
  readonly targets: readonly TargetStanding[];
  /** Mean KL(reference ‖ this run) over the force-fed positions from the first steered one; null without one. */
  readonly klToReference: number | null;
  /** KL(reference ‖ this run) at each of those positions (first steered … last). */
  readonly klToReferenceByPosition: readonly number[] | null;
}

async function runGenerate(
  model: Model,
  ids: readonly number[],
  g: GenerateSettings,
  hooks: readonly SteeringHook[],
): Promise<{ tokens: number[]; startLogits: Tensor }> {
  const cfg = { maxNewTokens: g.maxNewTokens, temperature: g.temperature, seed: g.seed, returnLogits: true };
  const r = await model.withHooks(hooks, () => generate(model, [...ids], cfg));
  const V = model.config.vocabSize;
  const start = new Tensor("f32", [V], (r.stepLogits!.data as Float32Array).slice(0, V));
  return { tokens: r.tokens[0]!, startLogits: start };
}

async function fedLogits(model: Model, fed: readonly number[], hooks: readonly SteeringHook[]): Promise<Tensor> {
  const logits = await model.withHooks(hooks, () => model.forward([...fed], { logits: "all" })); // [1, seq, vocab]
  return logits.reshape([fed.length, model.config.vocabSize]);
}

/** The unsteered run of a prompt and the force-fed text every setting is measured on. */
export async function promptBaseline(
  model: Model,
  reference: Model | null,
  prompt: PromptInput,
  g: GenerateSettings,
): Promise<PromptBaseline> {
  const own = await runGenerate(model, prompt.ids, g, []);
  const continuation = reference
    ? (await runGenerate(reference, prompt.ids, { ...g, temperature: 0 }, [])).tokens
    : own.tokens;
  const fed = [...prompt.ids, ...continuation];
  return {
    tokens: own.tokens,
    startLogits: own.startLogits,
    fed,
    fedLogits: await fedLogits(model, fed, []),
    referenceLogits: reference ? await fedLogits(reference, fed, []) : null,
  };
}

/** `prompt` under `hooks` (empty = the unsteered run itself). */
export async function measurePrompt(
  model: Model,
  prompt: PromptInput,
  baseline: PromptBaseline,
  hooks: readonly SteeringHook[],
  targets: ReadonlyArray<{ token: string; id: number }>,
  g: GenerateSettings,
): Promise<PromptMeasure> {
  const steered = hooks.length === 0 ? baseline : await runGenerate(model, prompt.ids, g, hooks);
  const fed = hooks.length === 0 ? baseline.fedLogits : await fedLogits(model, baseline.fed, hooks);
  const start = tokenStandings(
    steered.startLogits,
    targets.map((t) => t.id),
  )[0]!;
  const whereNext = whereNextProbability(fed, baseline.fed, targets);
  const targetRows = targets.map(
    (t, j): TargetStanding => ({
      token: t.token,
      id: t.id,
      probability: start[j]!.probability,
      rank: start[j]!.rank,
      whereNext: whereNext[j]!.mean,
      whereNextCount: whereNext[j]!.count,
    }),
  );
  let klByPosition: number[] | null = null;
  if (baseline.referenceLogits) {
    const kl = klDivergence(baseline.referenceLogits, fed).data as Float32Array; // [seq]
    klByPosition = Array.from(kl.subarray(Math.min(prompt.firstSteered, kl.length - 1)));
  }
  return {
    id: prompt.id,
    tokens: steered.tokens,
    nextTokenKl: (klDivergence(steered.startLogits, baseline.startLogits).data as Float32Array)[0]!,
    targets: targetRows,
    klToReference: klByPosition ? mean(klByPosition) : null,
    klToReferenceByPosition: klByPosition,
  };
}

/**
 * Per target: the mean probability `logits` [seq, vocab] give it at the positions of `fed` whose next token it is
 * (null when the text never has it next).
 */
export function whereNextProbability(
  logits: Tensor,
  fed: readonly number[],
  targets: ReadonlyArray<{ id: number }>,
): Array<{ mean: number | null; count: number }> {
  const V = logits.shape[logits.shape.length - 1]!;
  const data = logits.data as Float32Array; // [seq, vocab]
  return targets.map((t) => {
    // only the rows that predict the target: a full-vocabulary softmax per row is the cost here
    const rows: number[] = [];
    for (let q = 0; q + 1 < fed.length; q++) if (fed[q + 1] === t.id) rows.push(q);
    if (rows.length === 0) return { mean: null, count: 0 };
    const picked = new Float32Array(rows.length * V);
    for (const [j, q] of rows.entries()) picked.set(data.subarray(q * V, (q + 1) * V), j * V);
    const standings = tokenStandings(new Tensor("f32", [rows.length, V], picked), [t.id]);
    return { mean: mean(standings.map((row) => row[0]!.probability)), count: rows.length };
  });
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}
