/**
 * Seed 000's experiment end to end: check every input (nothing is written before they pass), collect the residual
 * stream at the readout positions in one batched forward per (condition, prompt), then per layer encode with its SAE
 * and compute similarity, Track A, Track B, degeneracy and the behaviour link; write results.json, the top-features
 * table, the activation matrices, figures, W&B (offline) and run.json. The run folder is written beside its target
 * and swapped in when complete, so a failed run never leaves a folder that looks complete.
 */
import * as path from "node:path";
import { chatTemplateFor, loadModelRef, recordRun, startRunEvent, writeOutputFolder } from "@difflens/app-kit";
import { conditionLabel } from "@difflens/chat";
import { ProgressBar } from "@difflens/common";
import { codesL0 } from "@difflens/sae";
import { loadTokenizer } from "@difflens/tokenizer";
import { conditionSimilarity, type LayerInputs, trackA, trackB } from "./analyze-layer.ts";
import { behaviourLink } from "./behaviour-link.ts";
import { type CheckedInputs, checkInputs } from "./check-inputs.ts";
import { collectResiduals, meanPerItem } from "./collect-residuals.ts";
import {
  type ConditionChats,
  type LexicalDifference,
  lexicalDifferences,
  tokenizeConditions,
} from "./condition-chats.ts";
import type { SaeConditionsConfig } from "./config.ts";
import { detectDegeneracy } from "./degeneracy.ts";
import { encodeRows, loadLayerSae } from "./encode-readouts.ts";
import { writeFigures } from "./figures.ts";
import { formatReadoutPosition, isRegionReadout } from "./readout-position.ts";
import {
  type LayerResults,
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
  const { inputs, chats, labels, position, lexical } = await prepareSaeConditions(config);
  const P = inputs.prompts.length;
  const runDir = path.resolve(options.runDir);
  return writeOutputFolder(
    runDir,
    async (dir) => {
      const model = await loadModelRef(config.model);
      let rows: ReturnType<typeof collectResiduals>;
      try {
        rows = collectResiduals(model, chats, inputs.hooks, { batchSize: config.batchSize, label: "forward" });
      } finally {
        model.close();
      }
      const layers: LayerResults[] = [];
      const behaviour = [];
      // One step per layer: load its SAE, encode, then similarity, Track A and Track B (max-T over every pair).
      const bar = new ProgressBar({ label: "layers", total: config.layers.length, unit: "layers" });
      for (const [done, layer] of config.layers.entries()) {
        bar.update(done, `encoding layer ${layer}`, true);
        const sae = await loadLayerSae(config.saes[layer]!, config.encodeRule);
        const encoded = encodeRows(sae, rows[layer]!, config.encodeRule);
        const resid = meanPerItem(rows[layer]!);
        const degeneracy = detectDegeneracy(resid, labels, P, sae.dIn, position);
        const x: LayerInputs = { layer, sae, labels, nPrompts: P, acts: encoded.perItem, resid, degeneracy };
        const file = await writeActivations(
          dir,
          layer,
          encoded,
          resid,
          rows[layer]!.start,
          { conditions: labels, promptIds: inputs.prompts.map((p) => p.id) },
          config.position.kind === "all",
        );
        const result: LayerResults = {
          layer,
          hook: inputs.hooks[layer]!,
          sae: { dir: config.saes[layer]!, format: inputs.saeShapes[layer]!.format, dIn: sae.dIn, dSae: sae.dSae },
          encodeRule: encoded.rule,
          position,
          similarity: conditionSimilarity(x),
          trackA: trackA(x, config),
          trackB: trackB(x, config),
          degeneracy,
          lexicalDifferences: lexical,
          meanL0: codesL0(encoded.tokens),
          activations: path.relative(dir, file),
        };
        layers.push(result);
        if (config.behaviour && inputs.scores)
          behaviour.push(
            behaviourLink(
              config.behaviour,
              layer,
              encoded.perItem,
              labels,
              P,
              sae.dSae,
              inputs.scores,
              config.trackA?.latents[layer],
              config.seed,
            ),
          );
        bar.update(done + 1, `layer ${layer} done`, true);
      }
      bar.done(config.layers.length);
      for (const l of layers) log(layerSummary(l));
      const results: SaeConditionsResults = {
        format: "difflens-sae-conditions-results",
        version: 1,
        model:
          config.model.adapter === null ? config.model.path : `${config.model.path} + LoRA ${config.model.adapter}`,
        position,
        unit: UNIT_NOTE,
        nPrompts: P,
        promptIds: inputs.prompts.map((p) => p.id),
        conditions: chats.map((c, i) => ({
          label: c.label,
          condition: conditionLabel(config.conditions[i]!.condition),
          fallback: c.fallback,
          readoutTokens: c.positions.reduce((s, p) => s + p.length, 0) / P,
        })),
        encodeRule: config.encodeRule,
        seed: config.seed,
        layers,
        lexicalDifferences: lexical,
        warnings: layers.flatMap((l) => l.degeneracy.map((w) => `layer ${l.layer}: ${w.message}`)),
        behaviour: config.behaviour ? behaviour : null,
        scores: inputs.scores ? Array.from(inputs.scores) : null,
      };
      for (const w of new Set(layers.flatMap((l) => l.degeneracy.map((d) => d.message)))) log(`warning: ${w}`);
      const files = [writeResultsJson(dir, results), writeCountsTable(dir, results), ...writeTopFeatures(dir, results)];
      if (options.figures ?? true) {
        const figures = await writeFigures(results, path.join(dir, "figures"));
        files.push(...figures.map((f) => `${f}.png`));
      }
      const wandbFolder = await logToWandb(config, results, dir, files, log);
      const details = {
        ...(options.details ?? {}),
        prompts: P,
        conditions: labels,
        position,
        regionReadout: isRegionReadout(config.position),
        wandb: wandbFolder === null ? null : path.relative(dir, wandbFolder),
      };
      recordRun(
        dir,
        { format: "difflens-readouts-run", app: import.meta.url, config: recordable(config), seed: config.seed },
        event.end(details),
      );
      return results;
    },
    { force: options.force ?? false, what: "sae-conditions" },
  );
}

export interface PreparedRun {
  readonly inputs: CheckedInputs;
  readonly chats: readonly ConditionChats[];
  readonly labels: readonly string[];
  readonly position: string;
  readonly lexical: readonly LexicalDifference[];
}

/** Every check that needs no weights: inputs, SAE shapes, the chats tokenized and their readout positions. */
export async function prepareSaeConditions(config: SaeConditionsConfig): Promise<PreparedRun> {
  const inputs = await checkInputs(config);
  const tokenizer = loadTokenizer(inputs.modelFolder);
  const template = chatTemplateFor(config.model);
  const chats = await tokenizeConditions(tokenizer, template, config.conditions, inputs.prompts, config.position);
  const labels = config.conditions.map((c) => c.label);
  const position = formatReadoutPosition(config.position);
  return { inputs, chats, labels, position, lexical: lexicalDifferences(chats, config.trackB.pairs) };
}

/** What --dry-run prints: the inputs as checked and the work ahead. */
export function formatPlan(config: SaeConditionsConfig, prepared: PreparedRun): string {
  const { inputs, chats } = prepared;
  const tokens = chats.reduce((s, c) => s + c.chats.reduce((t, chat) => t + chat.ids.length, 0), 0);
  const readouts = chats.reduce((s, c) => s + c.positions.reduce((t, p) => t + p.length, 0), 0);
  const saes = config.layers.map(
    (l) =>
      `  layer ${l}: ${inputs.hooks[l]} ← ${config.saes[l]} (${inputs.saeShapes[l]!.format}, d_in ${inputs.saeShapes[l]!.dIn}, d_sae ${inputs.saeShapes[l]!.dSae})`,
  );
  return [
    `model: ${inputs.modelFolder}${config.model.adapter ? ` + LoRA ${config.model.adapter}` : ""} (${(inputs.weightBytes / 2 ** 30).toFixed(2)} GiB of weights; forward stops after layer ${Math.max(...config.layers)})`,
    `prompts: ${inputs.prompts.length} (${config.prompts}); conditions: ${prepared.labels.join(", ")}`,
    `forward passes: ${chats.length * inputs.prompts.length} items, ${tokens} tokens, batch ${config.batchSize}; readout ${prepared.position}: ${readouts} tokens`,
    ...saes,
    `Track A: ${config.trackA ? `${config.trackA.pairs.length} pair(s), N = ${config.trackA.nNull}` : "off"}; Track B: ${config.trackB.pairs.length} pair(s), N = ${config.trackB.nPermutations}, α = ${config.trackB.alpha}; behaviour: ${config.behaviour ? config.behaviour.scores : "off"}`,
    `run folder: ${config.runDir}`,
  ].join("\n");
}

function layerSummary(l: LayerResults): string {
  const b = l.trackB.map((r) => {
    const c = r.counts;
    const counts = r.allDegenerate
      ? "degenerate (nothing tested)"
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
    position: formatReadoutPosition(config.position),
  };
}
