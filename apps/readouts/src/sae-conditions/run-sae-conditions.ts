/**
 * Seed 000's experiment end to end: check every input (nothing is written before they pass), collect the residual
 * stream at the readout positions in one batched forward per (condition, prompt), then per layer encode with its SAE
 * and compute similarity, Track A, Track B, degeneracy and the behaviour link; write results.json, the top-features
 * table, the activation matrices, figures, W&B (offline) and run.json. The run folder is written beside its target
 * and swapped in when complete, so a failed run never leaves a folder that looks complete.
 */
import * as path from "node:path";
import {
  chatTemplateFor,
  loadModelRef,
  recordRun,
  refuseExistingOutput,
  startRunEvent,
  writeOutputFolder,
} from "@difflens/app-kit";
import { conditionLabel } from "@difflens/chat";
import { ProgressBar } from "@difflens/common";
import { codesL0, type Sae } from "@difflens/sae";
import { loadTokenizer } from "@difflens/tokenizer";
import {
  conditionSimilarity,
  type Draws,
  type LayerInputs,
  type TrackBPairResult,
  trackA,
  trackB,
} from "./analyze-layer.ts";
import { type BehaviourLayerResult, behaviourLink } from "./behaviour-link.ts";
import { type CheckedInputs, checkInputs } from "./check-inputs.ts";
import { collectResiduals, meanPerItem, type ReadoutRows, selectReadout } from "./collect-residuals.ts";
import {
  type ConditionChats,
  type LexicalDifference,
  lexicalDifferences,
  tokenizeConditions,
} from "./condition-chats.ts";
import type { SaeConditionsConfig } from "./config.ts";
import { degeneracyLine, detectDegeneracy } from "./degeneracy.ts";
import { encodeRows, loadLayerSae } from "./encode-readouts.ts";
import { writeFigures } from "./figures.ts";
import { formatReadoutPosition, isRegionReadout } from "./readout-position.ts";
import {
  type LayerResults,
  type ReadoutResults,
  type SaeConditionsResults,
  UNIT_NOTE,
  writeActivations,
  writeCountsTable,
  writeResultsJson,
  writeTopFeatures,
} from "./results.ts";
import { logToWandb } from "./wandb-log.ts";

export interface RunSaeConditionsOptions {
  /** The run folder: must be new or empty unless `force`. */
  readonly runDir: string;
  readonly log?: (line: string) => void;
  /** Write figures (default true). */
  readonly figures?: boolean;
  /** Replace a non-empty run folder (the new one is swapped in when complete). */
  readonly force?: boolean;
  /** Recorded in run.json's event (e.g. the embedded toy's description). */
  readonly details?: Record<string, unknown>;
}

export async function runSaeConditions(
  config: SaeConditionsConfig,
  options: RunSaeConditionsOptions,
): Promise<SaeConditionsResults> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const event = startRunEvent("sae-conditions");
  const runDir = path.resolve(options.runDir);
  const refusal = { force: options.force ?? false, what: "sae-conditions" };
  refuseExistingOutput(runDir, refusal); // before any check or compute (writeOutputFolder checks again)
  const prepared = await prepareSaeConditions(config);
  const { inputs, labels, positions } = prepared;
  const P = inputs.prompts.length;
  return writeOutputFolder(
    runDir,
    async (dir) => {
      const rows = await forwardOnce(config, prepared);
      // Several readouts: each in its own sub-folder of activations/ and figures/ (one readout: the folders themselves).
      const sub = (r: number) => (positions.length === 1 ? "" : positionSlug(positions[r]!));
      const layers: LayerResults[][] = positions.map(() => []);
      const behaviour: BehaviourLayerResult[][] = positions.map(() => []);
      // One step per layer: load its SAE (one at a time), then per readout encode, similarity, Track A and Track B.
      const bar = new ProgressBar({ label: "layers", total: config.layers.length, unit: "layers" });
      for (const [done, layer] of config.layers.entries()) {
        bar.update(done, `encoding layer ${layer}`, true);
        await collectGarbage();
        const sae = await loadLayerSae(config.saes[layer]!, config.encodeRule);
        for (let r = 0; r < positions.length; r++) {
          const readoutRows = selectReadout(rows[layer]!, prepared.chats, r);
          const folder = path.join(dir, "activations", sub(r));
          const pass = await analyzeLayer(config, prepared, sae, readoutRows, layer, r, folder, dir);
          layers[r]!.push(pass.result);
          if (pass.behaviour !== null) behaviour[r]!.push(pass.behaviour);
        }
        delete rows[layer]; // this layer's residuals are done with
        bar.update(done + 1, `layer ${layer} done`, true);
      }
      bar.done(config.layers.length);
      const readouts = positions.map((_, r) =>
        readoutResults(config, prepared, r, layers[r]!, config.behaviour ? behaviour[r]! : null),
      );
      for (const readout of readouts) {
        if (positions.length > 1) log(`readout ${readout.position}:`);
        for (const l of readout.layers) log(layerSummary(l));
        for (const line of groupedWarnings(readout.layers, readout.position, P, labels.length)) log(`warning: ${line}`);
      }
      const results = assembleResults(config, prepared, readouts);
      const files = [writeResultsJson(dir, results), writeCountsTable(dir, results), ...writeTopFeatures(dir, results)];
      if (options.figures ?? true) {
        for (const [r, readout] of readouts.entries()) {
          const figures = await writeFigures(results, readout, path.join(dir, "figures", sub(r)));
          files.push(...figures.map((f) => `${f}.png`));
        }
      }
      const wandbFolder = await logToWandb(config, results, dir, files, log);
      const details = {
        ...(options.details ?? {}),
        prompts: P,
        conditions: labels,
        positions,
        regionReadout: config.positions.map(isRegionReadout),
        wandb: wandbFolder === null ? null : path.relative(dir, wandbFolder),
      };
      recordRun(
        dir,
        { format: "difflens-readouts-run", app: import.meta.url, config: recordable(config), seed: config.seed },
        event.end(details),
      );
      return results;
    },
    refusal,
  );
}

/** The one forward pass per (condition, prompt), keeping every readout's positions; the model is closed after it. */
async function forwardOnce(config: SaeConditionsConfig, prepared: PreparedRun): Promise<Record<number, ReadoutRows>> {
  const model = await loadModelRef(config.model);
  try {
    const options = { batchSize: config.batchSize, label: "forward" };
    return await collectResiduals(model, prepared.chats, prepared.inputs.hooks, options); // closes after the passes
  } finally {
    model.close();
  }
}

/**
 * Under --expose-gc, collect now: the closed model's weight mappings and the previous layer's SAE go before the next
 * SAE is loaded (a peak-memory matter at 7B scale; without the flag, V8 collects them when it sees fit).
 */
export async function collectGarbage(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return;
  gc();
  await new Promise((resolve) => setImmediate(resolve)); // the add-on's unmap finalizers run after the collection
}

/** A position as a folder name: `all:user:content` → `all-user-content`. */
export function positionSlug(position: string): string {
  return position.replace(/[^A-Za-z0-9]+/g, "-");
}

/** One layer and one readout: its rows encoded with the layer's SAE, the statistics, the activation file. */
async function analyzeLayer(
  config: SaeConditionsConfig,
  prepared: PreparedRun,
  sae: Sae,
  rows: ReadoutRows,
  layer: number,
  r: number,
  activationsDir: string,
  runDir: string,
): Promise<{ result: LayerResults; behaviour: BehaviourLayerResult | null }> {
  const { inputs, labels } = prepared;
  const position = prepared.positions[r]!;
  const P = inputs.prompts.length;
  const encoded = encodeRows(sae, rows, config.encodeRule);
  const resid = meanPerItem(rows);
  const degeneracy = detectDegeneracy(resid, labels, P, sae.dIn, position);
  const x: LayerInputs = { layer, sae, labels, nPrompts: P, acts: encoded.perItem, resid, degeneracy };
  const draws: Draws = {};
  const similarity = conditionSimilarity(x);
  const a = trackA(x, config, draws);
  const b = trackB(x, config, draws);
  const shape = { conditions: labels, promptIds: inputs.prompts.map((p) => p.id) };
  const tokenLevel = config.positions[r]!.kind === "all";
  const file = await writeActivations(activationsDir, layer, encoded, resid, rows.start, shape, tokenLevel, draws);
  const result: LayerResults = {
    layer,
    hook: inputs.hooks[layer]!,
    sae: { dir: config.saes[layer]!, format: inputs.saeShapes[layer]!.format, dIn: sae.dIn, dSae: sae.dSae },
    encodeRule: encoded.rule,
    position,
    similarity,
    trackA: a,
    trackB: b,
    degeneracy,
    lexicalDifferences: prepared.lexical,
    meanL0: codesL0(encoded.tokens),
    activations: path.relative(runDir, file),
  };
  const cfg = config.behaviour;
  const chosen = config.trackA?.latents[layer];
  const skip = cfg === null || inputs.scores === null || (cfg.latents === "trackA" && chosen === undefined);
  const behaviour = skip
    ? null
    : behaviourLink(cfg, layer, encoded.perItem, labels, P, sae.dSae, inputs.scores, chosen, config.seed);
  return { result, behaviour };
}

function readoutResults(
  config: SaeConditionsConfig,
  prepared: PreparedRun,
  r: number,
  layers: readonly LayerResults[],
  behaviour: readonly BehaviourLayerResult[] | null,
): ReadoutResults {
  const { inputs, chats, labels } = prepared;
  const position = prepared.positions[r]!;
  const P = inputs.prompts.length;
  return {
    position,
    conditions: chats.map((c, i) => ({
      label: c.label,
      condition: conditionLabel(config.conditions[i]!.condition),
      fallback: c.readouts[r]!.fallback,
      readoutTokens: c.readouts[r]!.positions.reduce((s, p) => s + p.length, 0) / P,
    })),
    layers,
    warnings: layers.flatMap((l) => {
      const line = degeneracyLine(l.degeneracy, position, P, labels.length);
      const pairs = l.trackB.filter((b) => b.allDegenerate).map((b) => `layer ${l.layer}: ${degeneratePairLine(b)}`);
      return [...(line === null ? [] : [`layer ${l.layer}: ${line}`]), ...pairs];
    }),
    behaviour,
  };
}

/** The first readout's results at the top level (a one-readout run's contract), every further readout in `readouts`. */
function assembleResults(
  config: SaeConditionsConfig,
  prepared: PreparedRun,
  readouts: readonly ReadoutResults[],
): SaeConditionsResults {
  const { inputs } = prepared;
  const first = readouts[0]!;
  return {
    format: "difflens-sae-conditions-results",
    version: 1,
    model: config.model.adapter === null ? config.model.path : `${config.model.path} + LoRA ${config.model.adapter}`,
    position: first.position,
    positions: prepared.positions,
    unit: UNIT_NOTE,
    nPrompts: inputs.prompts.length,
    promptIds: inputs.prompts.map((p) => p.id),
    conditions: first.conditions,
    encodeRule: config.encodeRule,
    seed: config.seed,
    layers: first.layers,
    lexicalDifferences: prepared.lexical,
    warnings: first.warnings,
    behaviour: first.behaviour,
    scores: inputs.scores ? Array.from(inputs.scores) : null,
    readouts: readouts.slice(1),
  };
}

/** A pair with no latent to test (e.g. identical system text under two labels): said on the console and in warnings. */
function degeneratePairLine(b: TrackBPairResult): string {
  return `${b.pair.join(" vs ")} is a degenerate pair: nothing passes (${b.note})`;
}

/** Degeneracy lines with the layers that share them ("layers 7, 11: …"). */
function groupedWarnings(layers: readonly LayerResults[], position: string, P: number, nConditions: number): string[] {
  const byLine = new Map<string, number[]>();
  for (const l of layers) {
    const line = degeneracyLine(l.degeneracy, position, P, nConditions);
    if (line !== null) byLine.set(line, [...(byLine.get(line) ?? []), l.layer]);
  }
  return [...byLine].map(([line, at]) => `layer${at.length > 1 ? "s" : ""} ${at.join(", ")}: ${line}`);
}

export interface PreparedRun {
  readonly inputs: CheckedInputs;
  readonly chats: readonly ConditionChats[];
  readonly labels: readonly string[];
  /** The readout positions as written, config order. */
  readonly positions: readonly string[];
  readonly lexical: readonly LexicalDifference[];
}

/** Every check that needs no weights: inputs, SAE shapes, the chats tokenized and their readout positions. */
export async function prepareSaeConditions(config: SaeConditionsConfig): Promise<PreparedRun> {
  const inputs = await checkInputs(config);
  const tokenizer = loadTokenizer(inputs.modelFolder);
  const template = chatTemplateFor(config.model);
  const chats = await tokenizeConditions(tokenizer, template, config.conditions, inputs.prompts, config.positions);
  const labels = config.conditions.map((c) => c.label);
  const positions = config.positions.map(formatReadoutPosition);
  const pairs = [
    ...config.trackB.pairs,
    ...(config.trackA?.pairs ?? []),
    ...(config.behaviour ? [config.behaviour.pair] : []),
  ];
  const unique = pairs.filter((p, i) => pairs.findIndex((q) => q[0] === p[0] && q[1] === p[1]) === i);
  return { inputs, chats, labels, positions, lexical: lexicalDifferences(chats, unique) };
}

/** What --dry-run prints: the inputs as checked and the work ahead. */
export function formatPlan(config: SaeConditionsConfig, prepared: PreparedRun): string {
  const { inputs, chats } = prepared;
  const tokens = chats.reduce((s, c) => s + c.chats.reduce((t, chat) => t + chat.ids.length, 0), 0);
  const readouts = prepared.positions.map((name, r) => {
    const n = chats.reduce((s, c) => s + c.readouts[r]!.positions.reduce((t, p) => t + p.length, 0), 0);
    return `${name} ${n} tokens`;
  });
  const saes = config.layers.map(
    (l) =>
      `  layer ${l}: ${inputs.hooks[l]} ← ${config.saes[l]} (${inputs.saeShapes[l]!.format}, d_in ${inputs.saeShapes[l]!.dIn}, d_sae ${inputs.saeShapes[l]!.dSae})`,
  );
  return [
    `model: ${inputs.modelFolder}${config.model.adapter ? ` + LoRA ${config.model.adapter}` : ""} (${(inputs.weightBytes / 2 ** 30).toFixed(2)} GiB of weights; forward stops after layer ${Math.max(...config.layers)})`,
    `prompts: ${inputs.prompts.length} (${config.prompts}); conditions: ${prepared.labels.join(", ")}`,
    `forward passes: ${chats.length * inputs.prompts.length} items, ${tokens} tokens, batch ${config.batchSize}; readouts (one pass for all): ${readouts.join(", ")}`,
    ...saes,
    `Track A: ${config.trackA ? `${config.trackA.pairs.length} pair(s), N = ${config.trackA.nNull}` : "off"}; Track B: ${config.trackB.pairs.length} pair(s), N = ${config.trackB.nPermutations}, α = ${config.trackB.alpha}; behaviour: ${config.behaviour ? config.behaviour.scores : "off"}`,
    `run folder: ${config.runDir}`,
  ].join("\n");
}

function layerSummary(l: LayerResults): string {
  const b = l.trackB.map((r) => {
    const c = r.counts;
    const counts = r.allDegenerate
      ? "degenerate pair — no latent to test, nothing passes"
      : `${c.familywise} family-wise, ${c.perFeature} per-feature of ${c.tested}`;
    return `  Track B ${r.pair.join(" vs ")}: ${counts}`;
  });
  const a = (l.trackA ?? []).map(
    (r) =>
      `  Track A ${r.pair.join(" − ")}: T ${r.statistic.toFixed(3)} vs null mean ${r.nullMean.toFixed(3)}, p ${r.pValue.toPrecision(3)}`,
  );
  return [`layer ${l.layer} (mean L0 ${l.meanL0.toFixed(1)}):`, ...a, ...b].join("\n");
}

/** The config as run.json records it (conditions as labels, the position as written). */
function recordable(config: SaeConditionsConfig): object {
  return {
    ...config,
    conditions: config.conditions.map((c) => ({ label: c.label, condition: conditionLabel(c.condition) })),
    position: config.positions.map(formatReadoutPosition),
  };
}
