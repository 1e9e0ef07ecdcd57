/**
 * The stage pipeline's commands before any compute: which stages are done, which will be trained (missing parents
 * included under --with-parents), and everything those read — the models at the hook (the toy's shape when the
 * models are generated), the tokenizer and special tokens, every data file, a pretrained S, the stages compare and
 * features read, the run folder and the disk — with all problems reported at once; then the plan `--dry-run` prints.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { type AppFlagSpec, hookWidth, Preflight } from "@difflens/app-kit";
import type { Log, ParsedFlags } from "@difflens/common";
import { type DecoderConfig, resolveQwen2Config } from "@difflens/runtime";
import { type DiffingConfig, STAGE_NAMES, type StageName } from "../config/diffing-config.ts";
import { DiffingError } from "../errors.ts";
import { checkParentSae, readParentSae } from "../models/parent-sae.ts";
import { COMMAND_STAGES, readStageRecord, STAGES, withAncestors, withDescendants } from "../stages/stage-plan.ts";
import { qwenTokenizerFile, TOY_SHAPE } from "../toy/toy-files.ts";
import { QWEN_VOCAB_SIZE } from "../toy/toy-pair.ts";
import { checkpointBytes } from "./cost-model.ts";
import { checkDataFiles, checkModelAt, checkOutput, checkTokenizer } from "./input-checks.ts";
import { pipelinePlan, type StageStep } from "./pipeline-plan.ts";

export type PipelineCommand = "train-stage0" | "train-stage1" | "train-stage2" | "compare" | "features" | "demo";

/** `--resume` on the stage commands, so that the flag `train` has works here too: stages always resume. */
export const RESUME_STAGES_FLAG: AppFlagSpec = {
  name: "resume",
  kind: "boolean",
  help: "continue interrupted stages (always on: a stage resumes from its last checkpoint)",
};

export interface PipelineRequest {
  readonly command: PipelineCommand;
  readonly config: DiffingConfig;
  /** Train missing parent stages first (the default config, or --with-parents). */
  readonly withParents: boolean;
  /** Where the command writes, when not the config's runDir (the demo's own folder). */
  readonly runDir?: string;
  /** --retrain: these stages and their descendants are trained again (moved aside first, never deleted). */
  readonly retrain?: readonly StageName[];
}

/** Runs the preflight (throws on problems); with --dry-run prints the plan and returns true: stop there. */
export async function checkPipeline(request: PipelineRequest, flags: ParsedFlags, log: Log): Promise<boolean> {
  const plan = await preflightPipeline(request, log);
  if (!flags["dry-run"]) return false;
  log(plan);
  return true;
}

/** Preflight of one pipeline command; returns the plan. */
export async function preflightPipeline(request: PipelineRequest, log: Log): Promise<string> {
  const { command, config } = request;
  const runDir = request.runDir ?? config.runDir;
  const pf = new Preflight();
  const steps = await stageSteps(pf, request);
  const training = steps.filter((s) => s.action !== "done");
  const trains = (pred: (s: (typeof STAGES)[StageName]) => boolean) =>
    training.some((s) => s.action === "train" && pred(STAGES[s.stage]));
  const features = command === "features" || command === "demo";
  const needsChatData = trains((s) => s.data === "chat") || (features && config.features.data === "chat");
  const needsBase = training.length > 0 || features;
  const needsChatModel = trains((s) => s.model === "chat") || features;
  // The toy's models are generated from the text data (its calibration), so the toy reads it whenever it opens them.
  const needsText =
    trains((s) => s.data === "text") ||
    (features && config.features.data === "text") ||
    (config.toy !== null && needsBase);

  if (command === "compare" || command === "features") await requireStages(pf, config, command);
  let shape: DecoderConfig | undefined;
  let dIn: number | undefined;
  if (config.toy !== null && needsBase) {
    shape = resolveQwen2Config({ vocabSize: QWEN_VOCAB_SIZE, ...TOY_SHAPE });
    dIn = await pf.check(`hook ${config.hook} on the toy models`, () => hookWidth(shape!, config.hook));
  } else if (config.toy === null) {
    const base = needsBase ? await checkModelAt(pf, "base model", config.baseModel!, config.hook) : undefined;
    const chat = needsChatModel ? await checkModelAt(pf, "chat model", config.chatModel!, config.hook) : undefined;
    if (base && chat && base.dIn !== chat.dIn) {
      await pf.check("base and chat model widths", () => {
        throw new DiffingError(
          "CONFIG_INVALID",
          `${config.hook} is ${base.dIn} wide on the base model and ${chat.dIn} on the chat model`,
          { field: "hook" },
        );
      });
    }
    shape = (base ?? chat)?.config;
    dIn = (base ?? chat)?.dIn;
  }
  const data = {
    mask: config.mask,
    textData: needsText ? config.textData : null,
    chatData: needsChatData ? config.chatData : null,
  };
  const [tokenizerSource, tokenizerLabel] =
    config.toy !== null
      ? [path.dirname(qwenTokenizerFile()), "the toy's Qwen tokenizer"]
      : [config.baseModel!.path, `tokenizer of ${config.baseModel!.path}`];
  const tokenizer =
    needsText || needsChatData ? await checkTokenizer(pf, tokenizerSource, data, tokenizerLabel) : undefined;
  const base = config.file ? path.dirname(config.file) : runDir;
  const textOk = needsText && (await checkDataFiles(pf, "text data", config.textData, base));
  const chatOk = needsChatData && (await checkDataFiles(pf, "chat data", config.chatData, base));
  const pretrained = config.stages.S.pretrained;
  if (pretrained !== null && steps.some((s) => s.action === "adopt")) {
    const parent = await pf.check(`stages.S.pretrained ${pretrained}`, () => readParentSae(pretrained));
    if (parent)
      await pf.check("stages.S.pretrained fits the config", () =>
        checkParentSae(parent, { hook: config.hook, dIn: dIn ?? null, sae: config.sae }, { overrideHook: false }),
      );
  }
  const perCheckpoint = dIn === undefined ? 0 : checkpointBytes(dIn, config.sae.dSae);
  const bytes = training.length > 0 ? (2 * training.length + 1) * perCheckpoint : 16e6;
  const free = await checkOutput(
    pf,
    runDir,
    bytes,
    training.length > 0 ? "the stages' checkpoints" : `${command}'s outputs`,
  );
  pf.finish(log);
  // Reached only when every check passed.
  return pipelinePlan(request, runDir, steps, {
    shape,
    dIn,
    tokenizer,
    textOk,
    chatOk,
    bytes,
    perCheckpoint,
    free: free!,
  });
}

/**
 * The stages of the command in lineage order with what happens to each; a missing parent without --with-parents is
 * a problem.
 */
async function stageSteps(pf: Preflight, request: PipelineRequest): Promise<StageStep[]> {
  const { command, config } = request;
  const requested = command === "demo" ? STAGE_NAMES : COMMAND_STAGES[command];
  if (requested === undefined) return [];
  const steps: StageStep[] = [];
  const retrained = withDescendants(request.retrain ?? []);
  for (const stage of withAncestors(requested)) {
    // The demo always trains afresh; --retrain moves a stage aside before training it again.
    const fresh = command === "demo" || retrained.includes(stage);
    const record = fresh ? null : readStageRecord(config, stage);
    const child = withAncestors(requested).find((c) => STAGES[c].parent === stage) ?? null;
    const asked = requested.includes(stage);
    if (record !== null) steps.push({ stage, action: "done", record, parentOf: null });
    else if (asked || request.withParents) {
      const action = stage === "S" && config.stages.S.pretrained !== null ? "adopt" : "train";
      steps.push({ stage, action, record: null, parentOf: asked ? null : child });
    } else {
      await pf.check(`stage ${stage}`, () => {
        throw new DiffingError(
          "PARENT_MISSING",
          `stage ${child} (${STAGES[child!].alias}) needs ${stage} (${STAGES[stage].alias}), which is not trained in ${config.runDir}`,
          {
            fix: `run \`pnpm --filter diffing ${STAGES[stage].command} --config ${config.file ?? "<config>"}\` first, or add --with-parents`,
          },
        );
      });
    }
  }
  return steps;
}

/** compare reads all five stages; features its two stages and the comparison. */
async function requireStages(pf: Preflight, config: DiffingConfig, command: "compare" | "features"): Promise<void> {
  const stages =
    command === "compare" ? STAGE_NAMES : [...new Set([config.features.baseStage, config.features.chatStage])];
  for (const stage of stages) {
    await pf.check(`stage ${stage}`, () => {
      if (readStageRecord(config, stage) !== null) return;
      throw new DiffingError(
        "STAGE_MISSING",
        `${command} needs stage ${stage} (${STAGES[stage].alias}), which is not trained in ${config.runDir}`,
        {
          fix: `run \`pnpm --filter diffing ${STAGES[stage].command}\` with this config first`,
        },
      );
    });
  }
  if (command === "features") {
    const table = path.join(config.runDir, "compare", "latents.json");
    await pf.check("the comparison", () => {
      if (!fs.existsSync(table))
        throw new DiffingError("STAGE_MISSING", `features needs the comparison (${table})`, {
          fix: "run `pnpm --filter diffing compare` with this config first",
        });
    });
  }
}
