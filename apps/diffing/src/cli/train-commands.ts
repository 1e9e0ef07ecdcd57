/** `train` (an SAE from scratch) and `finetune` (from a checkpoint) on one model, hook and dataset. */
import * as fs from "node:fs";
import * as path from "node:path";
import { CONFIG_FLAG, FORCE_FLAG, openModel, startRunEvent } from "@difflens/app-kit";
import { type FlagSpec, type ParsedFlags, UsageError, writeJsonAtomic } from "@difflens/common";
import { loadTrainConfig, type TrainConfig } from "../config/train-config.ts";
import { activationStream } from "../data/activation-stream.ts";
import { chatDataWindows, epochs, maskRulesOf, textWindows } from "../data/windows.ts";
import { DiffingError } from "../errors.ts";
import { recordDiffingRun } from "../run/run-record.ts";
import { openTrainOutput, trainFingerprint } from "../run/train-output.ts";
import { stepsFor, trainRun } from "../stages/train-run.ts";

export const TRAIN_FLAGS: readonly FlagSpec[] = [
  {
    ...CONFIG_FLAG,
    help: "train config (JSON): model, hook, textData|chatData, mask, sae, tokens, harvest, wandb, outDir",
  },
  { name: "out", kind: "string", value: "DIR", help: "run folder (overrides outDir of the config)" },
  {
    name: "resume",
    kind: "boolean",
    help: "continue the run in the output folder from its latest checkpoint (exact resume)",
  },
  FORCE_FLAG,
];
export const FINETUNE_FLAGS: readonly FlagSpec[] = [
  {
    name: "from",
    kind: "string",
    value: "CHECKPOINT",
    help: "checkpoint folder to start from (ours: cfg.json with a difflens block + sae.safetensors)",
  },
  ...TRAIN_FLAGS,
];

export async function trainCommand(
  flags: ParsedFlags,
  mode: "train" | "finetune",
  log: (line: string) => void,
): Promise<number> {
  if (typeof flags.config !== "string")
    throw new UsageError("USAGE", `${mode}: --config FILE is required`, { field: "--config" });
  const config = loadTrainConfig(flags.config);
  const outDir = typeof flags.out === "string" ? path.resolve(flags.out) : config.outDir;
  let from: string | null = null;
  if (mode === "finetune") {
    if (typeof flags.from !== "string")
      throw new UsageError("USAGE", "finetune: --from CHECKPOINT is required", { field: "--from" });
    from = path.resolve(flags.from);
    // A run folder is accepted too: its latest checkpoint.
    const pointer = path.join(from, "latest.json");
    if (!fs.existsSync(path.join(from, "cfg.json")) && fs.existsSync(pointer))
      from = path.join(from, (JSON.parse(fs.readFileSync(pointer, "utf8")) as { checkpoint: string }).checkpoint);
    if (!fs.existsSync(path.join(from, "cfg.json")))
      throw new DiffingError("PARENT_MISSING", `finetune: ${from} is not a checkpoint folder (no cfg.json)`, {
        file: from,
      });
  }
  const fingerprint = trainFingerprint(config, from);
  const resume = Boolean(flags.resume);
  const output = openTrainOutput(outDir, { command: mode, resume, force: Boolean(flags.force), fingerprint }, log);
  try {
    await trainInto(output.dir, outDir, config, from, mode, resume, log);
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
  from: string | null,
  mode: "train" | "finetune",
  resume: boolean,
  log: (line: string) => void,
): Promise<void> {
  const event = startRunEvent(mode);
  const { model, tokenizer, template, description } = await openModel(config.model);
  const rules = maskRulesOf(config.mask, tokenizer);
  const seed = config.sae.seed * 1000 + 1;
  const windows = config.textData
    ? epochs((s) => textWindows(config.textData!, tokenizer, rules, s), seed, "textData")
    : epochs((s) => chatDataWindows(config.chatData!, tokenizer, template, rules, s), seed, "chatData");
  const steps = stepsFor(config.tokens, config.sae.batchSize);
  const timing = { harvestMs: 0, harvestedRows: 0 };
  const source = activationStream({
    model,
    hook: config.hook,
    windows,
    windowsPerForward: config.harvest.windowsPerForward,
    batchRows: config.sae.batchSize,
    shuffleRows: config.harvest.shuffleRows,
    seed,
    maxRows: steps * config.sae.batchSize,
    timing,
  });
  log(`${mode}: ${description} at ${config.hook}, ${steps} steps × ${config.sae.batchSize} rows → ${outDir}`);
  const run = await trainRun({
    label: mode === "train" ? "SAE" : "FT",
    outDir: dir,
    source,
    sae: config.sae,
    hook: config.hook,
    tokens: config.tokens,
    lr: null,
    finetuneFrom: from,
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
  const trained = run.result.state.tokensSeen - run.resumedFromStep * config.sae.batchSize;
  const summary = {
    mode,
    checkpoint: path.relative(dir, run.result.finalDir!),
    from,
    lineage: run.result.lineage,
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
    `${mode}: done — ${summary.checkpoint} (FVU ${run.final.fvu?.toFixed(3)}, L0 ${run.final.l0?.toFixed(1)}, ${summary.timings.tokensPerS.toFixed(0)} tok/s)`,
  );
}
