/** train-stage0/1/2, compare, features and demo: the stage-wise diffing pipeline from one config. */
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { CONFIG_FLAG, DRY_RUN_FLAG, FORCE_FLAG, RUN_DIR_FLAG, startRunEvent, WANDB_FLAG } from "@difflens/app-kit";
import { didYouMean, type FlagSpec, type ParsedFlags, UsageError } from "@difflens/common";
import { runCompare } from "../compare/compare.ts";
import {
  type DiffingConfig,
  loadDiffingConfig,
  resolveDiffingConfig,
  STAGE_NAMES,
  type StageName,
} from "../config/diffing-config.ts";
import { formatDemo, runDemo } from "../demo/demo.ts";
import { DiffingError } from "../errors.ts";
import { checkFeaturesInputs, runFeatures } from "../features/features.ts";
import { openPipelineModels } from "../models/open-models.ts";
import { checkPipeline, RESUME_STAGES_FLAG } from "../preflight/pipeline-preflight.ts";
import { recordDiffingRun } from "../run/run-record.ts";
import { trainStages } from "../stages/pipeline.ts";
import { COMMAND_STAGES } from "../stages/stage-plan.ts";

/** configs/diffing/default.json of this checkout: the embedded toy. */
export const DEFAULT_CONFIG = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../../../configs/diffing/default.json",
);

const PIPELINE_CONFIG_FLAG: FlagSpec = {
  ...CONFIG_FLAG,
  help: "pipeline config (default: configs/diffing/default.json, the embedded toy); relative paths in it resolve from its folder",
};
const TOY_FLAGS: readonly FlagSpec[] = [
  {
    name: "seed",
    kind: "number",
    value: "N",
    help: "toy configs: seed of the toy pair (base weights, planted direction)",
  },
  {
    name: "plant-scale",
    kind: "number",
    value: "X",
    help: "toy configs: plant norm as a fraction of the median residual norm (0 < X ≤ 1)",
  },
  { name: "no-plant", kind: "boolean", help: "toy configs: the control — chat model = base model" },
];
const COMMON: readonly FlagSpec[] = [
  PIPELINE_CONFIG_FLAG,
  { ...RUN_DIR_FLAG, help: "pipeline run folder (overrides runDir of the config)" },
  ...TOY_FLAGS,
  WANDB_FLAG,
  DRY_RUN_FLAG,
];
export const STAGE_FLAGS: readonly FlagSpec[] = [
  ...COMMON,
  {
    name: "with-parents",
    kind: "boolean",
    help: "train missing parent stages first (always on with the default config)",
  },
  {
    name: "retrain",
    kind: "strings",
    value: "STAGE[,STAGE]",
    help:
      "train these stages again: they, the stages after them, compare/ and features/ are moved aside first " +
      "(STAGE.retired-<time>, never deleted)",
  },
  RESUME_STAGES_FLAG,
];
export const COMPARE_FLAGS: readonly FlagSpec[] = [...COMMON, FORCE_FLAG];
export const FEATURES_FLAGS: readonly FlagSpec[] = [
  ...COMPARE_FLAGS,
  {
    name: "latents",
    kind: "string",
    value: "all|N[,N…]",
    help: "latents that get max-activating contexts (overrides features.latents; default: the top compare.topK of the ranking)",
  },
];
export const DEMO_FLAGS: readonly FlagSpec[] = [
  PIPELINE_CONFIG_FLAG,
  {
    ...RUN_DIR_FLAG,
    help:
      "demo run folder (default: runs/diffing/demo/seed-<N>-scale-<X>[-control], the demo's own, replaced on " +
      "every run); a folder you name must be new or empty unless --force",
  },
  FORCE_FLAG,
  ...TOY_FLAGS,
  {
    name: "threshold",
    kind: "number",
    value: "C",
    help: "|cos| the leading change direction must reach (default 0.9)",
  },
  { name: "no-features", kind: "boolean", help: "skip the max-activating contexts page" },
  DRY_RUN_FLAG,
];

/** The config named by --config (or the default), with the command line's overrides applied. */
export function configFromFlags(flags: ParsedFlags): { config: DiffingConfig; isDefault: boolean } {
  const file = typeof flags.config === "string" ? path.resolve(flags.config) : DEFAULT_CONFIG;
  const loaded = loadDiffingConfig(file);
  const toyFlag = flags.seed !== undefined || flags["plant-scale"] !== undefined || flags["no-plant"] !== undefined;
  if (toyFlag && loaded.toy === null)
    throw new UsageError(
      "USAGE",
      `--seed, --plant-scale and --no-plant apply to toy configs; ${file} has no toy section`,
      { file, field: "toy" },
    );
  const { file: _f, ...rest } = loaded;
  const input: Record<string, unknown> = { ...rest };
  if (typeof flags["run-dir"] === "string") input.runDir = path.resolve(flags["run-dir"]);
  if (loaded.toy && toyFlag) {
    input.toy = {
      ...loaded.toy,
      ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
      ...(flags["plant-scale"] !== undefined ? { plantScale: flags["plant-scale"] } : {}),
      ...(flags["no-plant"] ? { plant: false } : {}),
    };
  }
  if (typeof flags.wandb === "string") input.wandb = { ...loaded.wandb, mode: flags.wandb };
  if (typeof flags.latents === "string") input.features = { ...loaded.features, latents: latentsFlag(flags.latents) };
  const config = resolveDiffingConfig(input, path.dirname(file), file);
  return { config, isDefault: file === DEFAULT_CONFIG };
}

/** `--retrain D --retrain M` or `--retrain D,M`: stage names, checked. */
export function retrainFlag(flags: ParsedFlags): StageName[] {
  const given = (flags.retrain as string[] | undefined) ?? [];
  const names = given
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter((v) => v !== "");
  for (const name of names) {
    if (!(STAGE_NAMES as readonly string[]).includes(name)) {
      const hint = `${didYouMean(name, STAGE_NAMES)} (stages: ${STAGE_NAMES.join(", ")})`;
      throw new UsageError("USAGE", `--retrain: unknown stage "${name}"${hint}`, { field: "--retrain", got: name });
    }
  }
  return [...new Set(names)] as StageName[];
}

export async function stageCommand(
  command: "train-stage0" | "train-stage1" | "train-stage2",
  flags: ParsedFlags,
  log: (line: string) => void,
): Promise<number> {
  const { config, isDefault } = configFromFlags(flags);
  const retrain = retrainFlag(flags);
  const event = startRunEvent(command);
  const withParents = isDefault || Boolean(flags["with-parents"]);
  if (await checkPipeline({ command, config, withParents, retrain }, flags, log)) return 0;
  let retired: Array<[string, string]> = [];
  const records = await trainStages(config, COMMAND_STAGES[command]!, {
    withParents,
    withParentsReason: isDefault ? "the default config trains missing parents" : "--with-parents",
    log,
    retrain,
    command,
    onRetired: (moved) => (retired = moved),
  });
  const details = Object.fromEntries(
    Object.entries(records).map(([s, r]) => [
      s,
      {
        wallS: r!.timings.wallS,
        tokensPerS: r!.timings.tokensPerS,
        checkpoint: r!.checkpoint,
        fingerprint: r!.fingerprintDigest ?? null,
      },
    ]),
  );
  const done = event.end({ ...details, ...(retired.length > 0 ? { retired: Object.fromEntries(retired) } : {}) });
  recordDiffingRun(config.runDir, config, config.sae.seed, done);
  log(`${command}: done in ${done.wallS.toFixed(1)} s → ${config.runDir}`);
  return 0;
}

export async function compareCommand(flags: ParsedFlags, log: (line: string) => void): Promise<number> {
  const { config } = configFromFlags(flags);
  if (await checkPipeline({ command: "compare", config, withParents: false }, flags, log)) return 0;
  const event = startRunEvent("compare");
  const cmp = await runCompare(config, log, { force: Boolean(flags.force) });
  const top = cmp.ranking.slice(0, config.compare.topK);
  recordDiffingRun(config.runDir, config, config.sae.seed, event.end({ top }));
  return 0;
}

/** --latents: "all" or a comma-separated list of latent indices. */
function latentsFlag(value: string): "all" | number[] {
  if (value.trim() === "all") return "all";
  const list = value.split(",").map((v) => Number(v.trim()));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 0))
    throw new UsageError("USAGE", `--latents: expected "all" or latent indices like 3,17,42, got "${value}"`, {
      field: "latents",
      got: value,
    });
  return list;
}

export async function featuresCommand(flags: ParsedFlags, log: (line: string) => void): Promise<number> {
  const { config } = configFromFlags(flags);
  const force = Boolean(flags.force);
  checkFeaturesInputs(config, force); // before the models load
  if (await checkPipeline({ command: "features", config, withParents: false }, flags, log)) return 0;
  const event = startRunEvent("features");
  const models = await openPipelineModels(config, log);
  try {
    const page = await runFeatures(config, models, log, { force });
    recordDiffingRun(config.runDir, config, config.sae.seed, event.end({ page: path.relative(config.runDir, page) }));
  } finally {
    models.close();
  }
  return 0;
}

export async function demoCommand(flags: ParsedFlags, log: (line: string) => void): Promise<number> {
  const { config } = configFromFlags({ ...flags, "run-dir": undefined });
  const toy = config.toy;
  if (toy === null) throw new DiffingError("CONFIG_INVALID", "demo: the config has no toy section", { field: "toy" });
  const plant = !flags["no-plant"];
  const runDir =
    typeof flags["run-dir"] === "string" ? flags["run-dir"] : path.join(path.dirname(config.runDir), "demo");
  if (await checkPipeline({ command: "demo", config, withParents: true, runDir: path.resolve(runDir) }, flags, log))
    return 0;
  const result = await runDemo({
    config,
    seed: toy.seed,
    plantScale: toy.plantScale,
    plant,
    ...(typeof flags["run-dir"] === "string" ? { runDir: path.resolve(flags["run-dir"]) } : {}),
    force: Boolean(flags.force),
    threshold: typeof flags.threshold === "number" ? flags.threshold : 0.9,
    features: !flags["no-features"],
    log,
  });
  process.stdout.write(`${formatDemo(result, plant)}\n`);
  return result.passed ? 0 : 1;
}
