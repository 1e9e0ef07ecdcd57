/**
 * The force-feed (seed 001's rule-out): the comparator (the seed's base model) reads the trained model's exact
 * positive sequences at the same strata positions → `readouts/<persona>/seed-<S>/comparator.*`. It starts from
 * the trained records stage 2 wrote: a comparator with another vocabulary is refused, and every sequence's fed
 * tokens and positions are asserted equal to the trained model's (FORCE_FEED_MISMATCH otherwise).
 */
import type { ChatTemplate } from "@difflens/chat";
import type { Tokenizer } from "@difflens/tokenizer";
import { ReadoutsError } from "../errors.ts";
import { type AttentionReadout, type ReadoutItem, readAttention } from "./attention-readout.ts";
import type { AttentionMarkerConfig } from "./config.ts";
import { readoutsBase, readReadouts } from "./readout-records.ts";
import {
  chatCache,
  formatSummary,
  type ReadoutModelHandle,
  type ReadoutStageSummary,
  readOrReuse,
  summarize,
} from "./readout-stage.ts";
import { type Generation, STRATA } from "./records.ts";
import { assertSameVocabulary, vocabularyFingerprint } from "./vocabulary-check.ts";

export interface ForceFeedStageInput {
  readonly runDir: string;
  readonly config: AttentionMarkerConfig;
  readonly persona: string;
  readonly runSeed: number;
  /** The persona's stage-1 generations for this run seed (the positives are replayed). */
  readonly generations: readonly Generation[];
  /** The tokenizer and chat template the trained model's prompts were rendered with (the regions' source). */
  readonly trainedChat: { readonly tokenizer: Tokenizer; readonly template: ChatTemplate };
  /** For messages: the comparator, as the config names it. */
  readonly comparatorDescription?: string;
  readonly log?: (line: string) => void;
}

export async function runForceFeedStage(
  input: ForceFeedStageInput,
  comparator: ReadoutModelHandle,
): Promise<ReadoutStageSummary> {
  const { config, persona, runSeed, log = () => {} } = input;
  const trained = await readReadouts(readoutsBase(input.runDir, persona, runSeed, "trained"));
  const vocabulary = vocabularyFingerprint(comparator.model, comparator.tokenizer);
  if (trained.vocabulary !== null) {
    assertSameVocabulary(trained.vocabulary, vocabulary, {
      trained: `of persona ${persona}`,
      comparator: input.comparatorDescription ?? "",
    });
  }
  const byTrial = new Map(input.generations.map((g) => [g.trial, g]));
  const generations = trained.readouts.map((r) => {
    const g = byTrial.get(r.trial);
    if (g === undefined || g.markerPosition === null) {
      throw mismatch(persona, runSeed, r.trial, "the trained records hold a trial that is not a saved positive");
    }
    return g;
  });
  const systemPrompt = config.personas.find((p) => p.name === persona)!.systemPrompt;
  const chats = chatCache(input.trainedChat, systemPrompt, config.readout.specials);
  const shape = { layers: trained.layers, heads: comparator.model.config.nHeads, vocabulary };
  const base = readoutsBase(input.runDir, persona, runSeed, "comparator");
  const { records, reused } = await readOrReuse(base, generations, shape, async () => {
    const items = await Promise.all(
      generations.map(
        async (g, e): Promise<ReadoutItem> => ({
          generation: g,
          chat: await chats(g),
          positions: trained.readouts[e]!.positions,
          model: "comparator",
        }),
      ),
    );
    return readAttention(comparator.model, items, {
      layers: trained.layers,
      batchSize: config.readout.batchSize,
      partitionTolerance: config.readout.partitionTolerance,
      label: `${persona} seed ${runSeed} force-feed`,
    });
  });
  assertSameReplay(persona, runSeed, trained.readouts, records.readouts);
  const summary = summarize(persona, runSeed, "comparator", records.readouts, [], {
    reused,
    skipped: generations.length === 0 ? "no positives to force-feed" : null,
  });
  log(formatSummary(summary));
  return summary;
}

/** The comparator saw exactly the trained model's tokens, and was read at exactly its positions. */
export function assertSameReplay(
  persona: string,
  runSeed: number,
  trained: readonly AttentionReadout[],
  comparator: readonly AttentionReadout[],
): void {
  if (trained.length !== comparator.length) {
    throw mismatch(persona, runSeed, null, `${comparator.length} force-fed sequences for ${trained.length} trained`);
  }
  trained.forEach((t, e) => {
    const c = comparator[e]!;
    if (c.trial !== t.trial) throw mismatch(persona, runSeed, t.trial, `sequence ${e} is trial ${c.trial}`);
    if (c.fedTokens !== t.fedTokens) {
      throw mismatch(persona, runSeed, t.trial, `fed tokens ${c.fedTokens}, the trained model read ${t.fedTokens}`);
    }
    for (const s of STRATA) {
      if (c.positions[s] !== t.positions[s]) {
        throw mismatch(persona, runSeed, t.trial, `${s} read at ${c.positions[s]}, the trained at ${t.positions[s]}`);
      }
    }
  });
}

function mismatch(persona: string, runSeed: number, trial: number | null, what: string): ReadoutsError {
  const at = trial === null ? "" : ` trial ${trial}`;
  return new ReadoutsError(
    "FORCE_FEED_MISMATCH",
    `force-feed of ${persona} seed ${runSeed}${at}: ${what} — the comparator must replay the trained tokens exactly`,
    { fix: "rerun the readout stage and then the force-feed (the trained records and generations disagree)" },
  );
}
