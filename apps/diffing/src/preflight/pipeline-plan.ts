/**
 * The plan a pipeline command prints with `--dry-run`: each stage done (kept) or to train and why, its tokens and
 * estimated time (a finished stage of this run on the same model and data gives a measured rate; otherwise
 * cost-model.ts, with the share of computed positions that are trained measured on the data's first windows), the
 * total and the disk.
 */

import { chatTemplateFor, formatBytes } from "@difflens/app-kit";
import { bundledChatTemplate } from "@difflens/chat";
import { clock, compactNumber } from "@difflens/common";
import { type DecoderConfig, parseHookName } from "@difflens/runtime";
import type { Tokenizer } from "@difflens/tokenizer";
import { type DiffingConfig, STAGE_NAMES, type StageName } from "../config/diffing-config.ts";
import { chatDataWindows, maskRulesOf, textWindows } from "../data/windows.ts";
import { readStageRecord, STAGES, type StageRecord } from "../stages/stage-plan.ts";
import { harvestFlopsPerPosition, type RowCost, secondsPerRow, trainedFraction } from "./cost-model.ts";
import type { PipelineRequest } from "./pipeline-preflight.ts";

/** What happens to one stage of a command. */
export interface StageStep {
  readonly stage: StageName;
  readonly action: "done" | "train" | "adopt";
  readonly record: StageRecord | null;
  /** Why a stage that was not asked for is trained. */
  readonly parentOf: StageName | null;
}

/** What the checks found, for the estimates. */
export interface PlanInputs {
  /** The model's shape (the toy's when generated); undefined when no model is read (compare). */
  readonly shape: DecoderConfig | undefined;
  readonly dIn: number | undefined;
  readonly tokenizer: Tokenizer | undefined;
  readonly textOk: boolean;
  readonly chatOk: boolean;
  /** Disk the command will write at its peak, one checkpoint's bytes, and the disk's free bytes. */
  readonly bytes: number;
  readonly perCheckpoint: number;
  readonly free: number;
}

export async function pipelinePlan(
  request: PipelineRequest,
  runDir: string,
  steps: readonly StageStep[],
  inputs: PlanInputs,
): Promise<string> {
  const cost = await costs(request.config, inputs);
  return formatPlan(request, runDir, steps, cost, inputs);
}

interface Costs {
  /** Seconds per trained row of each (model, data) pair: measured in this run, or modelled. */
  readonly perRow: (stage: StageName) => { seconds: number; measured: StageName | null };
  /** Seconds per computed position of a forward to the hook (features). */
  readonly perPosition: number;
}

async function costs(config: DiffingConfig, o: PlanInputs): Promise<Costs> {
  const shape = o.shape;
  const flops = (contextSize: number) => {
    if (shape === undefined) return 0; // nothing is harvested (compare)
    const { layer, site } = parseHookName(config.hook, shape);
    const hookLayer = Math.min(shape.nLayers, site.template === "blocks.{L}.hook_resid_pre" ? layer : layer + 1);
    return harvestFlopsPerPosition(shape, hookLayer, contextSize);
  };
  let textFraction = 1;
  let chatFraction = 1;
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
  const featuresContext = config.features.data === "chat" ? config.chatData.contextSize : config.textData.contextSize;
  const perPosition = secondsPerRow({
    flopsPerPosition: flops(featuresContext),
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
  { bytes, perCheckpoint, free }: PlanInputs,
): string {
  const { command, config } = request;
  const lines = [`plan: ${command} — run folder ${runDir}${config.file ? ` (config ${config.file})` : ""}`];
  let totalS = 0;
  let totalTokens = 0;
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
    const context = config.features.data === "chat" ? config.chatData.contextSize : config.textData.contextSize;
    const positions = 2 * config.features.windows * context;
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
