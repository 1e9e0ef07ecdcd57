/**
 * The stage pipeline's commands before any compute: which stages are done, which will be trained (missing parents
 * included under --with-parents), and everything those read — the models at the hook (the toy's shape when the
 * models are generated), the tokenizer and special tokens, every data file, a pretrained S, the stages compare and
 * features read, the run folder and the disk — with all problems reported at once; then the plan `--dry-run` prints.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { type AppFlagSpec, chatTemplateFor, formatBytes, hookWidth, Preflight } from "@difflens/app-kit";
import { bundledChatTemplate } from "@difflens/chat";
import { clock, compactNumber, type Log, type ParsedFlags } from "@difflens/common";
import { parseHookName, type Qwen2Config, resolveQwen2Config } from "@difflens/runtime";
import type { Tokenizer } from "@difflens/tokenizer";
import { type DiffingConfig, STAGE_NAMES, type StageName } from "../config/diffing-config.ts";
import { chatDataWindows, maskRulesOf, textWindows } from "../data/windows.ts";
import { DiffingError } from "../errors.ts";
import { checkParentSae, readParentSae } from "../models/parent-sae.ts";
import { COMMAND_STAGES, readStageRecord, STAGES, type StageRecord, withAncestors } from "../stages/stage-plan.ts";
import { qwenTokenizerFile, TOY_SHAPE } from "../toy/toy-files.ts";
import { QWEN_VOCAB_SIZE } from "../toy/toy-pair.ts";
import {
  checkpointBytes,
  harvestFlopsPerPosition,
  type RowCost,
  secondsPerRow,
  trainedFraction,
} from "./cost-model.ts";
import { checkDataFiles, checkModelAt, checkOutput, checkTokenizer } from "./input-checks.ts";

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
}

/** Runs the preflight (throws on problems); with --dry-run prints the plan and returns true: stop there. */
export async function checkPipeline(request: PipelineRequest, flags: ParsedFlags, log: Log): Promise<boolean> {
  const plan = await preflightPipeline(request, log);
  if (!flags["dry-run"]) return false;
  log(plan);
  return true;
}

interface StageStep {
  readonly stage: StageName;
  readonly action: "done" | "train" | "adopt";
  readonly record: StageRecord | null;
  /** Why a stage that was not asked for is trained. */
  readonly parentOf: StageName | null;
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
  let shape: Qwen2Config | undefined;
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

  const cost = await costs(config, { shape, dIn, tokenizer, textOk, chatOk });
  return formatPlan(request, runDir, steps, cost, bytes, perCheckpoint, free!);
}

/** The stages of the command in lineage order with what happens to each; a missing parent without --with-parents is a problem. */
async function stageSteps(pf: Preflight, request: PipelineRequest): Promise<StageStep[]> {
  const { command, config } = request;
  const requested = command === "demo" ? STAGE_NAMES : COMMAND_STAGES[command];
  if (requested === undefined) return [];
  const steps: StageStep[] = [];
  for (const stage of withAncestors(requested)) {
    const record = command === "demo" ? null : readStageRecord(config, stage); // the demo always trains afresh
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

interface Costs {
  /** Seconds per trained row of each (model, data) pair: measured in this run, or modelled. */
  readonly perRow: (stage: StageName) => { seconds: number; measured: StageName | null };
  /** Seconds per computed position of a forward to the hook (features). */
  readonly perPosition: number;
}

async function costs(
  config: DiffingConfig,
  o: {
    shape: Qwen2Config | undefined;
    dIn: number | undefined;
    tokenizer: Tokenizer | undefined;
    textOk: boolean;
    chatOk: boolean;
  },
): Promise<Costs> {
  const shape = o.shape;
  const flops = (contextSize: number) => {
    if (shape === undefined) return 0; // nothing is harvested (compare)
    const { layer, site } = parseHookName(config.hook, shape);
    const hookLayer = Math.min(shape.nLayers, site.template === "blocks.{L}.hook_resid_pre" ? layer : layer + 1);
    return harvestFlopsPerPosition(shape, hookLayer, contextSize);
  };
  let textFraction = 1,
    chatFraction = 1;
  if (o.tokenizer) {
    const rules = maskRulesOf(config.mask, o.tokenizer);
    if (o.textOk) textFraction = await trainedFraction(textWindows(config.textData, o.tokenizer, rules, 0));
    if (o.chatOk) {
      const template = config.toy !== null ? bundledChatTemplate("qwen1.5-chat") : chatTemplateFor(config.chatModel!);
      chatFraction = await trainedFraction(chatDataWindows(config.chatData, o.tokenizer, template, rules, 0));
    }
  }
  const modelled: Record<"text" | "chat", RowCost> = {
    text: secondsPerRow({
      flopsPerPosition: flops(config.textData.contextSize),
      trainedFraction: textFraction,
      dIn: o.dIn ?? 0,
      dSae: config.sae.dSae,
    }),
    chat: secondsPerRow({
      flopsPerPosition: flops(config.chatData.contextSize),
      trainedFraction: chatFraction,
      dIn: o.dIn ?? 0,
      dSae: config.sae.dSae,
    }),
  };
  const perRow = (stage: StageName) => {
    const plan = STAGES[stage];
    const same = STAGE_NAMES.find(
      (s) =>
        STAGES[s].model === plan.model &&
        STAGES[s].data === plan.data &&
        (readStageRecord(config, s)?.timings.tokensPerS ?? 0) > 0,
    );
    if (same !== undefined) return { seconds: 1 / readStageRecord(config, same)!.timings.tokensPerS, measured: same };
    const c = modelled[plan.data];
    return { seconds: c.harvestS + c.saeS, measured: null };
  };
  const perPosition = secondsPerRow({
    flopsPerPosition: flops(config.chatData.contextSize),
    trainedFraction: 1,
    dIn: 1,
    dSae: 1,
  }).harvestS;
  return { perRow, perPosition };
}

function formatPlan(
  request: PipelineRequest,
  runDir: string,
  steps: readonly StageStep[],
  cost: Costs,
  bytes: number,
  perCheckpoint: number,
  free: number,
): string {
  const { command, config } = request;
  const lines = [`plan: ${command} — run folder ${runDir}${config.file ? ` (config ${config.file})` : ""}`];
  let totalS = 0,
    totalTokens = 0;
  const measured = new Set<StageName>();
  for (const step of steps) {
    const plan = STAGES[step.stage];
    const head = `  ${step.stage.padEnd(2)} ${plan.alias.padEnd(6)}`;
    if (step.action === "done") {
      lines.push(`${head} done (step ${step.record!.step}, ${compactNumber(step.record!.tokens)} tokens) — kept`);
      continue;
    }
    if (step.action === "adopt") {
      lines.push(`${head} adopt stages.S.pretrained ${config.stages.S.pretrained}`);
      continue;
    }
    const tokens = config.stages[step.stage].tokens;
    const { seconds, measured: by } = cost.perRow(step.stage);
    if (by !== null) measured.add(by);
    totalS += tokens * seconds;
    totalTokens += tokens;
    const why = step.parentOf ? ` (missing parent of ${step.parentOf})` : "";
    const parent = plan.parent ? `finetune ${plan.parent}` : "from scratch";
    lines.push(
      `${head} train${why}: ${parent}, ${plan.model} model × ${plan.data} data, ${compactNumber(tokens)} tokens, ≈ ${clock(tokens * seconds)}`,
    );
  }
  if (command === "compare" || command === "demo")
    lines.push("  compare    decoder and encoder cosines of the five stages (seconds)");
  if (command === "features" || command === "demo") {
    const positions = 2 * config.features.windows * config.chatData.contextSize;
    totalS += positions * cost.perPosition;
    lines.push(
      `  features   ${config.features.windows} ${config.features.data} windows on both models, ≈ ${clock(positions * cost.perPosition)}`,
    );
  }
  const trained = steps.filter((s) => s.action === "train").length;
  const rates =
    measured.size > 0
      ? `rates measured in this run by ${[...measured].join(", ")}, others the README's 2-core rates scaled by FLOPs`
      : "the README's 2-core rates scaled by FLOPs";
  lines.push(
    `  total      ${trained} stage(s) to train, ${compactNumber(totalTokens)} tokens, ≈ ${clock(totalS)} (${rates})`,
    `  disk       ≈ ${formatBytes(bytes)} (checkpoints of ${formatBytes(perCheckpoint)}); ${formatBytes(free)} free`,
  );
  return lines.join("\n");
}
