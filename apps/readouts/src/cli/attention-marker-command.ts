/**
 * `pnpm --filter readouts attention-marker [--config FILE] …`: seed 001's pipeline as one command (stages generate →
 * readout → force-feed → analyze, each resuming). Without --config it runs the embedded toy (a small Qwen2 pair with
 * a planted marker, written into a cache folder) and prints the toy's verdict.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import {
  CONFIG_FLAG,
  DRY_RUN_FLAG,
  describeModelRef,
  FORCE_FLAG,
  RUN_DIR_FLAG,
  retireFolder,
  WANDB_FLAG,
} from "@difflens/app-kit";
import { type Command, didYouMean, type FlagSpec, type ParsedFlags, UsageError } from "@difflens/common";
import { type AttentionMarkerConfig, loadAttentionMarkerConfig } from "../attention-marker/config.ts";
import type { AttentionMarkerResults } from "../attention-marker/results.ts";
import { prepareAttentionMarker, runAttentionMarker } from "../attention-marker/run-attention-marker.ts";
import { readStageRecord, STAGES, type Stage } from "../attention-marker/stage-records.ts";
import { deepFreeze } from "../config-fields.ts";
import { type MarkerPlant, type MarkerToy, writeMarkerToy } from "../toy/marker-toy.ts";
import { REPO_ROOT, TOY_CACHE_DIR } from "./repo-paths.ts";

const STAGE_CHOICES = [...STAGES, "all"] as const;
const PLANTS: readonly MarkerPlant[] = ["attention", "mlp"];
const WANDB_MODES = ["offline", "online", "disabled"] as const;

const FLAGS: readonly FlagSpec[] = [
  {
    ...CONFIG_FLAG,
    help: "attention-marker config (JSON; default: the embedded toy); relative paths resolve from its folder",
  },
  {
    ...RUN_DIR_FLAG,
    help: "run folder (default: the config's runDir, else runs/readouts/attention-marker/<name>; the toy's runs/readouts/attention-marker/toy-<plant>-seed-<N> is replaced on every full run); an existing run folder is resumed",
  },
  { ...FORCE_FLAG, help: "start the run folder afresh: an existing one is moved aside to <dir>.retired-<time>" },
  { ...WANDB_FLAG, help: "offline (default: a folder inside the run folder) | online | disabled" },
  {
    name: "stage",
    kind: "string",
    value: "STAGE",
    help: "generate | readout | force-feed | analyze | all (default all); a stage needs the earlier stages' outputs in the run folder",
  },
  {
    name: "plant",
    kind: "string",
    value: "PLANT",
    help: "embedded toy only: attention | mlp (default mlp, the seed's finding)",
  },
  { name: "seed", kind: "integer", value: "N", help: "embedded toy only: the toy's seed (default 0)" },
  {
    ...DRY_RUN_FLAG,
    help: "check every input (config, questions, model folders, marker token, the comparator's vocabulary) and print the plan with each stage's state; writes nothing",
  },
];

export const ATTENTION_MARKER_COMMAND: Command = {
  summary: "Seed 001: attention at a marker token with control strata and a force-feed comparator.",
  flags: FLAGS,
  notes: [
    "Stages: generate (sample attempts per persona × run seed; resumable), readout (attention fractions at the marker and control strata), force-feed (the comparator on the same tokens), analyze (gates, windows, diff-of-diffs, figures, results.json, W&B).",
    "Bad input (an unknown config key, a marker whose first token is not a vocabulary entry of its own, a malformed questions line, a comparator with another vocabulary) exits 2.",
  ],
  run: ({ flags, log }) => attentionMarkerCommand(flags, log),
};

export async function attentionMarkerCommand(flags: ParsedFlags, log: (line: string) => void): Promise<number> {
  const stages = stagesOf(flags.stage);
  let config: AttentionMarkerConfig;
  let toy: MarkerToy | null = null;
  if (typeof flags.config === "string") {
    for (const name of ["plant", "seed"])
      if (flags[name] !== undefined)
        throw new UsageError("USAGE", `--${name} applies to the embedded toy only (no --config)`, {
          field: `--${name}`,
        });
    config = loadAttentionMarkerConfig(flags.config);
  } else {
    const plant = plantOf(flags.plant);
    const seed = typeof flags.seed === "number" ? flags.seed : 0;
    toy = await writeMarkerToy(path.join(TOY_CACHE_DIR, "marker"), { seed, plant, log });
    config = loadAttentionMarkerConfig(toy.configFile);
  }
  config = withWandb(config, flags.wandb);
  const runDir = runDirOf(config, flags, toy);
  // The toy's own run folder starts afresh on every full run (cheap; a new toy version never meets old records).
  const toyFresh = toy !== null && typeof flags["run-dir"] !== "string" && stages.length === STAGES.length;
  const fresh = Boolean(flags.force) || toyFresh;
  if (flags["dry-run"]) {
    log(await formatPlan(config, runDir, stages, fresh));
    log("dry run: nothing computed or written");
    return 0;
  }
  if (fresh && fs.existsSync(runDir)) {
    if (toyFresh && !flags.force) fs.rmSync(runDir, { recursive: true, force: true });
    else log(`--force: moved the old run folder to ${retireFolder(runDir)}`);
  }
  const details = toy === null ? {} : { toy: { ...toy } };
  const results = await runAttentionMarker(config, { runDir, log, stages, details });
  log(summaryLine(results));
  if (toy !== null && results.analysis !== null) log(toyVerdict(toy, results));
  log(`outputs: ${runDir}`);
  log(
    "  config.json, generations/, readouts/, figures/ (PNG, PDF, SVG + data), results.json, samples.md, run.json, wandb/",
  );
  return 0;
}

function stagesOf(value: unknown): readonly Stage[] {
  if (value === undefined || value === "all") return STAGES;
  if (typeof value === "string" && (STAGES as readonly string[]).includes(value)) return [value as Stage];
  throw new UsageError(
    "USAGE",
    `--stage: expected one of ${STAGE_CHOICES.join(", ")}, got "${String(value)}"${didYouMean(String(value), STAGE_CHOICES)}`,
    { field: "--stage" },
  );
}

function plantOf(value: unknown): MarkerPlant {
  if (value === undefined) return "mlp";
  if (typeof value === "string" && PLANTS.includes(value as MarkerPlant)) return value as MarkerPlant;
  throw new UsageError(
    "USAGE",
    `--plant: expected one of ${PLANTS.join(", ")}, got "${String(value)}"${didYouMean(String(value), PLANTS)}`,
    { field: "--plant" },
  );
}

function withWandb(config: AttentionMarkerConfig, mode: unknown): AttentionMarkerConfig {
  if (mode === undefined) return config;
  if (!WANDB_MODES.includes(mode as (typeof WANDB_MODES)[number]))
    throw new UsageError(
      "USAGE",
      `--wandb: expected one of ${WANDB_MODES.join(", ")}, got "${String(mode)}"${didYouMean(String(mode), WANDB_MODES)}`,
      { field: "--wandb" },
    );
  return deepFreeze({ ...config, wandb: { ...config.wandb, mode: mode as (typeof WANDB_MODES)[number] } });
}

function runDirOf(config: AttentionMarkerConfig, flags: ParsedFlags, toy: MarkerToy | null): string {
  if (typeof flags["run-dir"] === "string") return path.resolve(flags["run-dir"]);
  const root = path.join(REPO_ROOT, "runs/readouts/attention-marker");
  if (toy !== null) return path.join(root, `toy-${toy.plant}-seed-${toy.seed}`);
  return config.runDir ?? path.join(root, config.name);
}

/** What --dry-run prints: the inputs as checked, the work per stage and whether the run folder has it already. */
async function formatPlan(
  config: AttentionMarkerConfig,
  runDir: string,
  stages: readonly Stage[],
  fresh: boolean,
): Promise<string> {
  const prepared = await prepareAttentionMarker(config);
  const state = (stage: Stage) => {
    if (!stages.includes(stage)) return "not asked";
    if (fresh && fs.existsSync(runDir)) return "to run (the run folder starts afresh)";
    if (!fs.existsSync(runDir)) return "to run";
    return readStageRecord(runDir, stage) === null ? "to run" : "recorded (rerun only if its inputs changed)";
  };
  const g = config.generation;
  const attempts = config.personas.length * config.runSeeds.length * config.attempts;
  return [
    `marker: ${JSON.stringify(config.marker)} → token ${prepared.markerId}; questions: ${prepared.questions.length} (${config.questions})`,
    ...config.personas.map((p) => `persona ${p.name}: ${describeModelRef(p.model)}`),
    `comparator: ${config.comparator === null ? "none (no force-feed)" : `${describeModelRef(config.comparator)}, force-fed: ${config.forceFeed.join(", ")}`}`,
    `generate: ${attempts} attempts (${config.personas.length} personas × ${config.runSeeds.length} run seeds [${config.runSeeds.join(", ")}] × ${config.attempts}), ≤ ${g.maxNewTokens} new tokens, T ${g.temperature}, top-p ${g.topP}, batch ${g.batchSize} — ${state("generate")}`,
    `readout: offset ${config.readout.offset}, layers ${config.readout.layers === "all" ? "all" : config.readout.layers.join(", ")}, batch ${config.readout.batchSize} — ${state("readout")}`,
    `force-feed: ${state("force-feed")}; analyze: ${state("analyze")}`,
    `run folder: ${runDir}`,
  ].join("\n");
}

function summaryLine(results: AttentionMarkerResults): string {
  const ran = Object.entries(results.stages)
    .map(([s, v]) => `${s} ${v}`)
    .join(", ");
  const counts = results.counts.map((c) => `${c.persona}/${c.runSeed} ${c.positives}+ ${c.negatives}−`).join(", ");
  return `attention-marker: ${ran}; positives/negatives: ${counts}; skipped: ${results.skipped.length}`;
}

/** The toy's known answer as this run saw it: where the force-feed diff-of-diffs peaks and whether its SEM bar clears zero. */
function toyVerdict(toy: MarkerToy, results: AttentionMarkerResults): string {
  const persona = results.analysis?.personas.find((p) => p.persona === toy.persona);
  const dd = persona?.pooled.forceFeed?.diffOfDiffs.B;
  if (dd === undefined) return `toy (${toy.plant} plant): no force-feed analysis for persona ${toy.persona}`;
  const layers = results.analysis!.layers;
  const peak = dd.max.layer;
  const at = layers.indexOf(peak);
  const clears = at >= 0 && dd.perLayer.semExcludesZero[at] === true;
  const mediated = peak === toy.plantedLayer && clears && dd.max.value > 0;
  const p = dd.signBalance.pValue;
  const num = (x: number) => (x !== 0 && Math.abs(x) < 1e-4 ? x.toExponential(2) : x.toFixed(4));
  const where =
    dd.max.value > 1e-9
      ? `peaks at layer ${peak} (${num(dd.max.value)}, SEM bar excludes zero: ${clears ? "yes" : "no"})`
      : `is nowhere above zero (max ${num(dd.max.value)})`;
  return (
    `toy (${toy.plant} plant, L* = ${toy.plantedLayer}): force-feed diff-of-diffs (system, seg B) ${where}, mean ${num(dd.mean)}, ` +
    `sign balance p ${p === null ? "n/a" : p.toPrecision(3)} → ${mediated ? "attention-mediated" : "not attention-mediated"} ` +
    `(planted: ${toy.plant === "attention" ? "attention-mediated" : "not attention-mediated"})`
  );
}
