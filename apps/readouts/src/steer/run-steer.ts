/**
 * The steer run: every prompt generated under the condition without and with the interventions, at each α of the
 * sweep, measured (steer-metrics.ts) and summarised; results.json, per-prompt texts (prompts.jsonl) and the α-sweep
 * figure written into `runDir`.
 */
import * as path from "node:path";
import { describeModelRef, loadModelRef, type OpenedModel, openModel, writeJsonLines } from "@difflens/app-kit";
import { type Log, writeJsonAtomic } from "@difflens/common";
import { type DecoderConfig, type Model, parseHookName, readModelConfig, resolveModelFolder } from "@difflens/runtime";
import type { Tokenizer } from "@difflens/tokenizer";
import { ReadoutsError } from "../errors.ts";
import { type ResolvedIntervention, resolveInterventions } from "./interventions.ts";
import type { SteerConfig } from "./steer-config.ts";
import {
  mean,
  measurePrompt,
  type PromptMeasure,
  promptBaseline,
  type TargetStanding,
  whereNextProbability,
} from "./steer-metrics.ts";
import { preparePrompts, resolveTargets, steerPrompts } from "./steer-prompts.ts";
import { writeSweepFigure } from "./sweep-figure.ts";

export interface SettingSummary {
  /** The swept α (or the clamp value when nothing is swept); null for the unsteered runs. */
  readonly alpha: number | null;
  readonly nextTokenKl: number;
  /** Mean over prompts of KL(reference ‖ model) (null without a reference). */
  readonly klToReference: number | null;
  /** 1 − klToReference / the unsteered one (null without a reference). */
  readonly klDrop: number | null;
  readonly targets: ReadonlyArray<{ token: string; probability: number; rank: number; whereNext: number | null }>;
}

export interface SteerResults {
  readonly model: string;
  readonly reference: string | null;
  readonly condition: string;
  readonly positions: SteerConfig["positions"];
  readonly interventions: ReadonlyArray<{
    kind: string;
    hook: string;
    label: string;
    latents: readonly number[] | null;
    alphas: readonly number[];
  }>;
  readonly sweptIntervention: number | null;
  readonly unsteered: SettingSummary;
  readonly settings: readonly SettingSummary[];
  /** The setting with the lowest KL to the reference (or null without one). */
  readonly best: SettingSummary | null;
  /** Mean probability the reference gives each target where the text has it next. */
  readonly referenceTargets: ReadonlyArray<{ token: string; whereNext: number | null }> | null;
  readonly check: { readonly minKlDrop: number; readonly passed: boolean } | null;
  readonly figures: readonly string[];
}

export interface RunSteerOptions {
  readonly runDir: string;
  readonly log?: Log;
  readonly figures?: boolean;
  /** The config's models already open (kept open): several runs on one pair load it once. */
  readonly models?: SteerModels;
}

export interface SteerModels {
  readonly model: OpenedModel;
  readonly reference: Model | null;
}

/** The config's model (with tokenizer and template) and reference; close both when done. */
export async function openSteerModels(config: SteerConfig): Promise<SteerModels & { close(): void }> {
  const model = await openModel(config.model);
  const reference = config.reference ? await loadModelRef(config.reference) : null;
  return {
    model,
    reference,
    close: () => {
      model.close();
      reference?.close();
    },
  };
}

/**
 * Every input checked against the model's config.json before any weights load: the model folder, the prompts, each
 * intervention's SAE, latent, hook and direction. Returns the interventions ready to hook and the prompt count.
 */
export async function checkSteerInputs(
  config: SteerConfig,
  modelConfig: DecoderConfig = modelConfigOf(config),
): Promise<{ interventions: ResolvedIntervention[]; prompts: number }> {
  const prompts = steerPrompts(config).length;
  const interventions = await resolveInterventions(config, {
    dModel: modelConfig.dModel,
    checkHook: (name) => parseHookName(name, modelConfig),
  });
  return { interventions, prompts };
}

export async function runSteer(config: SteerConfig, options: RunSteerOptions): Promise<SteerResults> {
  const log = options.log ?? (() => {});
  const { interventions } = await checkSteerInputs(config, options.models?.model.model.config);
  const own = options.models ? null : await openSteerModels(config);
  const { model: opened, reference } = options.models ?? own!;
  try {
    const model = opened.model;
    const prompts = await preparePrompts(config, opened.tokenizer, opened.template);
    const targets = await resolveTargets(config.targets, opened.tokenizer);
    const swept = interventions.findIndex((it) => it.alphas.length > 1);
    const alphas = swept >= 0 ? interventions[swept]!.alphas : [interventions[0]!.alphas[0]!];
    const g = config.generate;
    log(`steer: ${prompts.length} prompts × ${alphas.length} setting(s) under ${config.conditionLabel}`);
    const rows: Record<string, unknown>[] = [];
    const unsteered: PromptMeasure[] = [];
    const bySetting: PromptMeasure[][] = alphas.map(() => []);
    const referenceWhere: Array<Array<number | null>> = [];
    for (const p of prompts) {
      const baseline = await promptBaseline(model, reference, p, g);
      const plain = await measurePrompt(model, p, baseline, [], targets, g);
      unsteered.push(plain);
      if (baseline.referenceLogits) {
        referenceWhere.push(whereNextProbability(baseline.referenceLogits, baseline.fed, targets).map((w) => w.mean));
      }
      const decode = (tokens: readonly number[]) => decodeLenient(opened.tokenizer, tokens);
      const row: Record<string, unknown> = {
        id: p.id,
        text: p.text,
        unsteered: { text: await decode(plain.tokens), klToReference: plain.klToReference, targets: plain.targets },
        continuation: await decode(baseline.fed.slice(p.ids.length)),
        steered: [] as unknown[],
      };
      for (const [s, alpha] of alphas.entries()) {
        const hooks = interventions.map((it, i) => it.hookAt(i === swept ? alpha : it.alphas[0]!, p.positions));
        const m = await measurePrompt(model, p, baseline, hooks, targets, g);
        bySetting[s]!.push(m);
        (row.steered as unknown[]).push({
          alpha,
          text: await decode(m.tokens),
          nextTokenKl: m.nextTokenKl,
          klToReference: m.klToReference,
          targets: m.targets,
        });
      }
      rows.push(row);
      log(`  ${p.id}: done`);
    }
    const base = summarise(unsteered, null, null);
    const settings = bySetting.map((ms, s) => summarise(ms, alphas[s]!, base.klToReference));
    const best = reference
      ? settings.reduce((a, b) => ((b.klToReference ?? Infinity) < (a.klToReference ?? Infinity) ? b : a))
      : null;
    const check =
      config.minKlDrop !== null && best !== null
        ? { minKlDrop: config.minKlDrop, passed: (best.klDrop ?? 0) >= config.minKlDrop }
        : null;
    const figures =
      options.figures === false || settings.length < 2
        ? []
        : await writeSweepFigure(path.join(options.runDir, "alpha-sweep"), { base, settings, swept: swept >= 0 });
    const results: SteerResults = {
      model: opened.description,
      reference: config.reference ? describeModelRef(config.reference) : null,
      condition: config.conditionLabel,
      positions: config.positions,
      interventions: interventions.map(describeIntervention),
      sweptIntervention: swept >= 0 ? swept : null,
      unsteered: base,
      settings,
      best,
      referenceTargets: reference
        ? targets.map((t, j) => ({ token: t.token, whereNext: meanOrNull(referenceWhere.map((r) => r[j]!)) }))
        : null,
      check,
      figures: figures.map((f) => path.relative(options.runDir, f)),
    };
    writeJsonLines(path.join(options.runDir, "prompts.jsonl"), rows);
    writeJsonAtomic(path.join(options.runDir, "results.json"), results);
    return results;
  } finally {
    own?.close();
  }
}

function modelConfigOf(config: SteerConfig): DecoderConfig {
  try {
    return readModelConfig(resolveModelFolder(config.model.path));
  } catch (e) {
    const message = `steer.model: ${(e as Error).message}`;
    throw new ReadoutsError("INPUT_INVALID", message, { field: "steer.model", file: config.model.path });
  }
}

/**
 * Text of generated tokens; ids the tokenizer does not know (a model's padding rows of the embedding, which a random
 * or steered model can emit) are written as ⟨id⟩.
 */
async function decodeLenient(tokenizer: Tokenizer, tokens: readonly number[]): Promise<string> {
  let text = "";
  let run: number[] = [];
  for (const id of [...tokens, -1]) {
    if (id >= 0 && tokenizer.idToToken(id) !== null) {
      run.push(id);
      continue;
    }
    if (run.length > 0) text += await tokenizer.decode(run);
    run = [];
    if (id >= 0) text += `⟨${id}⟩`;
  }
  return text;
}

function describeIntervention(it: ResolvedIntervention) {
  return { kind: it.kind, hook: it.hook, label: it.label, latents: it.latents, alphas: it.alphas };
}

function meanOrNull(values: ReadonlyArray<number | null>): number | null {
  const have = values.filter((v): v is number => v !== null);
  return have.length === 0 ? null : mean(have);
}

function summarise(ms: readonly PromptMeasure[], alpha: number | null, klBefore: number | null): SettingSummary {
  const kl = ms.every((m) => m.klToReference !== null) ? mean(ms.map((m) => m.klToReference!)) : null;
  const targets = ms[0]!.targets.map((t: TargetStanding, j) => ({
    token: t.token,
    probability: mean(ms.map((m) => m.targets[j]!.probability)),
    rank: mean(ms.map((m) => m.targets[j]!.rank)),
    whereNext: meanOrNull(ms.map((m) => m.targets[j]!.whereNext)),
  }));
  return {
    alpha,
    nextTokenKl: mean(ms.map((m) => m.nextTokenKl)),
    klToReference: kl,
    klDrop: kl !== null && klBefore !== null && klBefore > 0 ? 1 - kl / klBefore : null,
    targets,
  };
}
