/** `train` (an SAE from scratch) and `finetune` (from an SAE of any format) on one model, hook and dataset. */
import * as fs from "node:fs";
import * as path from "node:path";
import { type AppFlagSpec, CONFIG_FLAG, DRY_RUN_FLAG, FORCE_FLAG, openModel, startRunEvent } from "@difflens/app-kit";
import { type ParsedFlags, UsageError, writeJsonAtomic } from "@difflens/common";
import { loadTrainConfig, type TrainConfig } from "../config/train-config.ts";
import { trainingStream } from "../data/activation-stream.ts";
import { chatDataWindows, epochs, maskRulesOf, textWindows } from "../data/windows.ts";
import { type ParentSae, parentStart, stageParentSae } from "../models/parent-sae.ts";
import { preflightTrain } from "../preflight/train-preflight.ts";
import { recordDiffingRun } from "../run/run-record.ts";
import { openTrainOutput, trainFingerprint } from "../run/train-output.ts";
import { stepsFor, trainRun } from "../stages/train-run.ts";

export const TRAIN_FLAGS: readonly AppFlagSpec[] = [
  {
    ...CONFIG_FLAG,
    help: "train config (JSON): model, hook, textData|chatData, mask, sae, tokens, harvest, wandb, outDir",
  },
  { name: "out", kind: "string", value: "DIR", path: true, help: "run folder (overrides outDir of the config)" },
  {
    name: "resume",
    kind: "boolean",
    help: "continue the run in the output folder from its latest checkpoint (exact resume)",
  },
  FORCE_FLAG,
  DRY_RUN_FLAG,
];
export const FINETUNE_FLAGS: readonly AppFlagSpec[] = [
  {
    name: "from",
    kind: "string",
    value: "SAE",
    path: true,
    help: "the SAE to start from: ours (a checkpoint or run folder), SAELens, sparsify or dictionary_learning",
  },
  {
    name: "override-hook",
    kind: "boolean",
    help: "allow a parent trained on another hook (a warning recorded in the lineage)",
  },
  ...TRAIN_FLAGS,
];

/** What a run starts from, as the preflight found it. */
interface Start {
  readonly parent: ParentSae | null;
  readonly warnings: readonly string[];
  /** The output folder holds a run that --resume continues (the parent is then not read again). */
  readonly resuming: boolean;
}

export async function trainCommand(
  flags: ParsedFlags,
  mode: "train" | "finetune",
  log: (line: string) => void,
): Promise<number> {
  if (typeof flags.config !== "string")
    throw new UsageError("USAGE", `${mode}: --config FILE is required`, { field: "--config" });
  if (mode === "finetune" && typeof flags.from !== "string") {
    throw new UsageError("USAGE", "finetune: --from SAE is required", { field: "--from" });
  }
  const config = loadTrainConfig(flags.config);
  const outDir = typeof flags.out === "string" ? path.resolve(flags.out) : config.outDir;
  const from = typeof flags.from === "string" ? path.resolve(flags.from) : null;
  const resume = Boolean(flags.resume);
  const force = Boolean(flags.force);
  // Everything is checked before anything is opened or created (no run folder, no W&B run).
  const overrideHook = Boolean(flags["override-hook"]);
  const checked = await preflightTrain({ mode, config, outDir, from, resume, force, overrideHook }, log);
  if (flags["dry-run"]) {
    log(await checked.plan());
    return 0;
  }
  for (const warning of checked.warnings) log(`${mode}: warning: ${warning}`);
  const fingerprint = trainFingerprint(config, checked.parent?.dir ?? null);
  const output = openTrainOutput(outDir, { command: mode, resume, force, fingerprint }, log);
  try {
    await trainInto(output.dir, outDir, config, checked, mode, resume, log);
  } catch (error) {
    output.discard();
    throw error;
  }
  output.commit();
  return 0;
}

/** The run, written into `dir` (the output folder, or a temp folder beside it under --force). */
async function trainInto(
  dir: string,
  outDir: string,
  config: TrainConfig,
  start: Start,
  mode: "train" | "finetune",
  resume: boolean,
  log: (line: string) => void,
): Promise<void> {
  const { parent, warnings } = start;
  const staged = path.join(dir, "parent");
  const finetuneFrom =
    parent === null
      ? null
      : start.resuming
        ? parentStart(parent, staged, warnings)
        : await stageParentSae(parent, staged, warnings);
  const event = startRunEvent(mode);
  const { model, tokenizer, template, description } = await openModel(config.model);
  const rules = maskRulesOf(config.mask, tokenizer);
  const seed = config.sae.seed * 1000 + 1;
  const windows = config.textData
    ? epochs((s) => textWindows(config.textData!, tokenizer, rules, s), seed, "textData")
    : epochs((s) => chatDataWindows(config.chatData!, tokenizer, template, rules, s), seed, "chatData");
  const steps = stepsFor(config.tokens, config.sae.batchSize);
  const timing = { harvestMs: 0, harvestedRows: 0 };
  const source = trainingStream(config, model, windows, { seed, steps, timing });
  log(`${mode}: ${description} at ${config.hook}, ${steps} steps × ${config.sae.batchSize} rows → ${outDir}`);
  const from = parent?.dir ?? null;
  const run = await trainRun({
    label: mode === "train" ? "SAE" : "FT",
    outDir: dir,
    source,
    sae: config.sae,
    hook: config.hook,
    tokens: config.tokens,
    lr: null,
    finetuneFrom,
    resume,
    wandb: {
      ...config.wandb,
      dir: path.join(dir, "wandb"),
      group: mode,
      name: path.basename(outDir),
      config: { model: description, hook: config.hook, from },
    },
    timing,
    log,
  });
  model.close();
  const relocate = (p: string) => (p.startsWith(`${dir}${path.sep}`) ? path.join(outDir, path.relative(dir, p)) : p);
  if (dir !== outDir) relocateLineage(dir, relocate);
  const trained = run.result.state.tokensSeen - run.resumedFromStep * config.sae.batchSize;
  const summary = {
    mode,
    checkpoint: path.relative(dir, run.result.finalDir!),
    from,
    parent:
      parent === null
        ? null
        : { format: parent.format, path: parent.dir, sha256: parent.sha256, hook: parent.hook, warnings },
    lineage: run.result.lineage.map((entry) => ({ ...entry, path: relocate(entry.path) })),
    step: run.result.state.step,
    tokens: run.result.state.tokensSeen,
    final: run.final,
    timings: {
      wallS: run.wallS,
      tokensPerS: trained / run.wallS,
      harvestTokensPerS: timing.harvestedRows / Math.max(1e-9, timing.harvestMs / 1000),
      resumedFromStep: run.resumedFromStep,
    },
  };
  writeJsonAtomic(path.join(dir, "train.json"), summary);
  recordDiffingRun(dir, { ...config, outDir: dir }, config.sae.seed, event.end(summary.timings));
  log(
    `${mode}: done — ${summary.checkpoint} (FVU ${run.final.fvu?.toFixed(3)}, L0 ${run.final.l0?.toFixed(1)}, ` +
      `${summary.timings.tokensPerS.toFixed(0)} tok/s)`,
  );
}

/**
 * A --force run is written beside the output folder and renamed into it: lineage paths into the temp folder (a
 * staged parent) are rewritten to the output folder they will have.
 */
function relocateLineage(dir: string, relocate: (p: string) => string): void {
  const checkpoints = path.join(dir, "checkpoints");
  if (!fs.existsSync(checkpoints)) return;
  for (const name of fs.readdirSync(checkpoints)) {
    const file = path.join(checkpoints, name, "cfg.json");
    if (!fs.existsSync(file)) continue;
    const cfg = JSON.parse(fs.readFileSync(file, "utf8")) as { difflens?: { lineage?: Array<{ path: string }> } };
    for (const entry of cfg.difflens?.lineage ?? []) entry.path = relocate(entry.path);
    writeJsonAtomic(file, cfg);
  }
}
