/**
 * Stage 2 for one (persona, run seed) on the persona's trained model: the positives' marker and control strata
 * (C1–C3) → `readouts/<persona>/seed-<S>/trained.*`, the negatives' end-of-answer (C4) → `trained-negatives.*`.
 * A stage that resumes: records already written for exactly these trials are kept, not recomputed.
 */
import type { ChatTemplate, ChatTokens } from "@difflens/chat";
import type { Model } from "@difflens/runtime";
import type { Tokenizer } from "@difflens/tokenizer";
import { type AttentionReadout, type ReadoutItem, readAttention } from "./attention-readout.ts";
import type { AttentionMarkerConfig } from "./config.ts";
import { personaPrompt } from "./persona-prompt.ts";
import { type ReadoutRecords, readoutsBase, readReadouts, writeReadouts } from "./readout-records.ts";
import { type Generation, type ReadoutModel, STRATA, type Stratum } from "./records.ts";
import { chooseStrata } from "./strata.ts";
import { type VocabularyFingerprint, vocabularyFingerprint } from "./vocabulary-check.ts";

/** A loaded model with the tokenizer and chat template its prompts are rendered with (app-kit's OpenedModel fits). */
export interface ReadoutModelHandle {
  readonly model: Model;
  readonly tokenizer: Tokenizer;
  readonly template: ChatTemplate;
}

export interface ReadoutStageInput {
  readonly runDir: string;
  readonly config: AttentionMarkerConfig;
  readonly persona: string;
  readonly runSeed: number;
  /** The persona's stage-1 generations for this run seed, positives and negatives. */
  readonly generations: readonly Generation[];
  /** The run's own token frequency table (`tokenFrequencies` over every generation of the run). */
  readonly frequencies: ReadonlyMap<number, number>;
  readonly markerId: number;
  readonly log?: (line: string) => void;
}

/** What stage 2 reports per (persona, run seed, model). */
export interface ReadoutStageSummary {
  readonly persona: string;
  readonly runSeed: number;
  readonly model: ReadoutModel;
  readonly positives: number;
  readonly negatives: number;
  /** Examples whose stratum had no candidate (marker … c3 over positives, c4 over negatives). */
  readonly nullStrata: Readonly<Record<Stratum, number>>;
  /** max |Σ groups − 1| over every example, layer, head, stratum and segmentation. */
  readonly maxPartitionError: number;
  /** True when complete records were already on disk. */
  readonly reused: boolean;
  /** Why nothing was read (no positives), else null. */
  readonly skipped: string | null;
}

export async function runReadoutStage(
  input: ReadoutStageInput,
  trained: ReadoutModelHandle,
): Promise<ReadoutStageSummary> {
  const { config, persona, runSeed, log = () => {} } = input;
  const systemPrompt = config.personas.find((p) => p.name === persona)!.systemPrompt;
  const positives = input.generations.filter((g) => g.markerPosition !== null);
  const negatives = input.generations.filter((g) => g.markerPosition === null);
  const shape = {
    layers: resolveLayers(config, trained.model),
    heads: trained.model.config.nHeads,
    vocabulary: vocabularyFingerprint(trained.model, trained.tokenizer),
  };
  const chats = chatCache(trained, systemPrompt, config.readout.specials);
  const read = (generations: readonly Generation[], name: string) =>
    readOrReuse(readoutsBase(input.runDir, persona, runSeed, name), generations, shape, async () => {
      const items = await Promise.all(
        generations.map(
          async (g): Promise<ReadoutItem> => ({
            generation: g,
            chat: await chats(g),
            positions: chooseStrata(g, input.frequencies, config.readout.offset, input.markerId),
            model: "trained",
          }),
        ),
      );
      return readAttention(trained.model, items, {
        layers: shape.layers,
        batchSize: config.readout.batchSize,
        partitionTolerance: config.readout.partitionTolerance,
        label: `${persona} seed ${runSeed} ${name}`,
      });
    });
  const pos = await read(positives, "trained");
  const neg = await read(negatives, "trained-negatives");
  const summary = summarize(persona, runSeed, "trained", pos.records.readouts, neg.records.readouts, {
    reused: pos.reused && neg.reused,
    skipped: positives.length === 0 ? "no positives: the persona never emitted the marker under this run seed" : null,
  });
  log(formatSummary(summary));
  return summary;
}

/** The layers a config reads on this model. */
export function resolveLayers(config: AttentionMarkerConfig, model: Model): number[] {
  const asked = config.readout.layers;
  return asked === "all" ? Array.from({ length: model.config.nLayers }, (_, l) => l) : [...asked];
}

/** `personaPrompt` once per question (every attempt at a question shares its prompt). */
export function chatCache(
  handle: Pick<ReadoutModelHandle, "tokenizer" | "template">,
  systemPrompt: string,
  specials: readonly string[],
): (g: Generation) => Promise<ChatTokens> {
  const cache = new Map<string, Promise<ChatTokens>>();
  return (g) => {
    let chat = cache.get(g.question);
    if (chat === undefined) {
      chat = personaPrompt(handle.tokenizer, handle.template, systemPrompt, g.question, specials);
      cache.set(g.question, chat);
    }
    return chat;
  };
}

/** What records must hold to be reused: these layers and heads, read on a model with this vocabulary. */
export interface RecordsShape {
  readonly layers: readonly number[];
  readonly heads: number;
  readonly vocabulary: VocabularyFingerprint;
}

/** Reads complete records of exactly these trials and this shape back, else computes and writes them. */
export async function readOrReuse(
  base: string,
  generations: readonly Generation[],
  shape: RecordsShape,
  compute: () => Promise<AttentionReadout[]>,
): Promise<{ records: ReadoutRecords; reused: boolean }> {
  const existing = await readReadouts(base).catch(() => null);
  if (
    existing !== null &&
    existing.readouts.map((r) => r.trial).join(",") === generations.map((g) => g.trial).join(",") &&
    existing.layers.join(",") === shape.layers.join(",") &&
    existing.heads === shape.heads &&
    existing.vocabulary?.tokenMapSha256 === shape.vocabulary.tokenMapSha256
  ) {
    return { records: existing, reused: true };
  }
  const records: ReadoutRecords = { ...shape, readouts: await compute() };
  await writeReadouts(base, records);
  return { records, reused: false };
}

/** Counts per model: positives (marker … c3 read on them), negatives (c4), strata with no candidate. */
export function summarize(
  persona: string,
  runSeed: number,
  model: ReadoutModel,
  positives: readonly AttentionReadout[],
  negatives: readonly AttentionReadout[],
  status: { reused: boolean; skipped: string | null },
): ReadoutStageSummary {
  const nullStrata = Object.fromEntries(STRATA.map((s) => [s, 0])) as Record<Stratum, number>;
  for (const s of STRATA) {
    for (const r of s === "c4" ? negatives : positives) if (r.positions[s] === null) nullStrata[s] += 1;
  }
  const maxPartitionError = [...positives, ...negatives].reduce((m, r) => Math.max(m, r.partitionError), 0);
  return {
    persona,
    runSeed,
    model,
    positives: positives.length,
    negatives: negatives.length,
    nullStrata,
    maxPartitionError,
    ...status,
  };
}

export function formatSummary(s: ReadoutStageSummary): string {
  const nulls = STRATA.filter((k) => s.nullStrata[k] > 0).map((k) => `${k} ${s.nullStrata[k]}`);
  return (
    `readout ${s.persona} seed ${s.runSeed} ${s.model}: ${s.positives} positives, ${s.negatives} negatives` +
    `${s.reused ? " (records reused)" : ""}; max |Σ groups − 1| ${s.maxPartitionError.toExponential(2)}` +
    `${nulls.length > 0 ? `; strata with no candidate: ${nulls.join(", ")}` : ""}` +
    `${s.skipped === null ? "" : `; ${s.skipped}`}`
  );
}
