/**
 * `train` and `finetune` before any compute: the model folder at the hook, the tokenizer, every data file, the
 * parent (any format; hook, d_in, d_sae, activation rule, k and normalisation against the config), a resumed run's
 * own parent, the output folder and the disk — all problems reported at once — and the plan `--dry-run` prints.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { chatTemplateFor, formatBytes, Preflight, refuseExistingOutput } from "@difflens/app-kit";
import { clock, compactNumber, type Log } from "@difflens/common";
import { parseHookName } from "@difflens/runtime";
import type { Tokenizer } from "@difflens/tokenizer";
import type { TrainConfig } from "../config/train-config.ts";
import { chatDataWindows, maskRulesOf, textWindows } from "../data/windows.ts";
import { DiffingError } from "../errors.ts";
import {
  checkParentSae,
  type ParentSae,
  parentFolder,
  parentStart,
  readParentSae,
  recordedParent,
} from "../models/parent-sae.ts";
import { stepsFor } from "../stages/train-run.ts";
import {
  CHECKPOINTS_AT_PEAK,
  checkpointBytes,
  harvestFlopsPerPosition,
  secondsPerRow,
  trainedFraction,
} from "./cost-model.ts";
import { type CheckedModel, checkDataFiles, checkModelAt, checkOutput, checkTokenizer } from "./input-checks.ts";

export interface TrainRequest {
  readonly mode: "train" | "finetune";
  readonly config: TrainConfig;
  readonly outDir: string;
  /** --from as given (absolute): a checkpoint folder of any format, or a run folder. */
  readonly from: string | null;
  readonly resume: boolean;
  /** Replace a non-empty output folder (a new run written beside it). */
  readonly force: boolean;
  readonly overrideHook: boolean;
}

export interface TrainPreflight {
  readonly parent: ParentSae | null;
  /** To record in the lineage (an unrecorded or overridden hook). */
  readonly warnings: readonly string[];
  /** The output folder holds a run that --resume continues. */
  readonly resuming: boolean;
  /** What `--dry-run` prints (samples the data's first windows for the time estimate). */
  plan(): Promise<string>;
}

export async function preflightTrain(request: TrainRequest, log: Log): Promise<TrainPreflight> {
  const { mode, config, outDir } = request;
  const pf = new Preflight();
  const model = await checkModelAt(pf, "model", config.model, config.hook);
  const tokenizer = await checkTokenizer(pf, config.model.path, config);
  const data = config.textData ?? config.chatData!;
  const base = config.file ? path.dirname(config.file) : process.cwd();
  await checkDataFiles(pf, config.textData ? "text data" : "chat data", data, base);

  let parent: ParentSae | null = null;
  let warnings: string[] = [];
  if (request.from !== null) {
    parent = (await pf.check(`parent ${request.from}`, () => readParentSae(request.from!))) ?? null;
    if (parent !== null) {
      const want = { hook: config.hook, dIn: model?.dIn ?? null, sae: config.sae };
      const fits = await pf.check("parent fits the config", () => checkParentSae(parent!, want, request));
      warnings = fits ?? [];
    }
  }
  // --resume continues the run in the output folder; without it (or under --force) a new run starts.
  const resuming = request.resume && fs.existsSync(path.join(outDir, "latest.json"));
  await pf.check(`run folder ${outDir}`, () => {
    if (resuming) checkResumedParent(mode, outDir, request.from, parent);
    else {
      const alternatives = "pass --resume to continue it, or choose another --out";
      refuseExistingOutput(outDir, { force: request.force, what: `${mode} --out`, alternatives });
    }
  });
  const dIn = model?.dIn ?? parent?.dIn;
  // The checkpoints at their peak, and the parent written in our layout when it is staged (see parent-sae.ts).
  const staged = parent !== null && parentStart(parent, path.join(outDir, "parent"), warnings) !== parent.dir;
  const bytes =
    dIn === undefined ? 0 : (CHECKPOINTS_AT_PEAK + (staged ? 1 : 0)) * checkpointBytes(dIn, config.sae.dSae);
  const free = await checkOutput(pf, outDir, bytes, "the checkpoints");
  pf.finish(log);
  // Reached only when every check passed: the model, tokenizer and data are known to be good.
  const plan = () =>
    formatTrainPlan(request, { model: model!, tokenizer: tokenizer!, parent, warnings, resuming, bytes, free: free! });
  return { parent, warnings, resuming, plan };
}

interface Checked {
  readonly model: CheckedModel;
  readonly tokenizer: Tokenizer;
  readonly parent: ParentSae | null;
  readonly warnings: readonly string[];
  readonly resuming: boolean;
  readonly bytes: number;
  readonly free: number;
}

async function formatTrainPlan(request: TrainRequest, c: Checked): Promise<string> {
  const { mode, config, outDir } = request;
  const { model, tokenizer, parent, warnings, resuming, bytes, free } = c;
  const data = config.textData ?? config.chatData!;
  const dIn = model.dIn;
  const steps = stepsFor(config.tokens, config.sae.batchSize);
  const resumedStep = resuming
    ? (JSON.parse(fs.readFileSync(path.join(outDir, "latest.json"), "utf8")) as { step: number }).step
    : 0;
  const rules = maskRulesOf(config.mask, tokenizer);
  const windows = config.textData
    ? textWindows(config.textData, tokenizer, rules, 0)
    : chatDataWindows(config.chatData!, tokenizer, chatTemplateFor(config.model), rules, 0);
  const fraction = await trainedFraction(windows);
  const { layer, site } = parseHookName(config.hook, model.config);
  const hookLayer = Math.min(model.config.nLayers, site.template === "blocks.{L}.hook_resid_pre" ? layer : layer + 1);
  const contextSize = config.textData?.contextSize ?? config.chatData!.contextSize;
  const cost = secondsPerRow({
    flopsPerPosition: harvestFlopsPerPosition(model.config, hookLayer, contextSize),
    trainedFraction: fraction,
    dIn,
    dSae: config.sae.dSae,
  });
  const rows = Math.max(0, steps - resumedStep) * config.sae.batchSize;
  const lines = [
    `plan: ${mode} a TopK SAE (d_sae ${config.sae.dSae}, k ${config.sae.k}) on ${config.model.path} at ${config.hook} (d_in ${dIn}) → ${outDir}`,
  ];
  if (parent) {
    lines.push(
      `  parent    ${parent.dir} (${parent.format}, sha256 ${parent.sha256.slice(0, 12)}…, step ${parent.step})`,
    );
    for (const w of warnings) lines.push(`  warning   ${w}`);
  }
  lines.push(
    `  data      ${data.files.length} ${config.textData ? "text" : `chat (${config.chatData!.format})`} file(s); ${(fraction * 100).toFixed(0)}% of computed positions are trained`,
    `  training  ${steps} steps × ${config.sae.batchSize} rows = ${compactNumber(steps * config.sae.batchSize)} tokens${resumedStep > 0 ? ` (resuming at step ${resumedStep})` : ""}`,
    `  time      ≈ ${clock(rows * (cost.harvestS + cost.saeS))} (harvest ${compactNumber(1 / cost.harvestS)} tok/s, SAE ${compactNumber(1 / cost.saeS)} tok/s: the README's 2-core rates scaled by FLOPs)`,
    `  disk      ≈ ${formatBytes(bytes)} at peak (${CHECKPOINTS_AT_PEAK} checkpoints of ${formatBytes(checkpointBytes(dIn, config.sae.dSae))}); ${formatBytes(free)} free`,
  );
  return lines.join("\n");
}

/** A resumed run continues its own parent: a different --from (or none, or one changed since) is refused. */
function checkResumedParent(
  mode: "train" | "finetune",
  outDir: string,
  from: string | null,
  parent: ParentSae | null,
): void {
  const recorded = recordedParent(outDir);
  if (recorded === null) return; // no checkpoint yet: nothing to contradict
  if (recorded === undefined) {
    if (mode === "train") return;
    throw new DiffingError(
      "PARENT_MISMATCH",
      `finetune --resume: the run in ${outDir} was trained from scratch, not from ${from}`,
      {
        file: outDir,
        fix: "resume it with `train --resume`, or finetune into another --out",
      },
    );
  }
  if (mode === "train" || from === null) {
    throw new DiffingError(
      "PARENT_MISMATCH",
      `train --resume: the run in ${outDir} is a finetune of ${recorded.path}`,
      {
        file: outDir,
        fix: `resume it with \`finetune --from ${recorded.path} --resume\``,
      },
    );
  }
  const given = parent?.dir ?? parentFolder(from);
  if (path.resolve(given) !== path.resolve(recorded.path)) {
    throw new DiffingError(
      "PARENT_MISMATCH",
      `--resume with --from ${given}, but the run in ${outDir} was started from ${recorded.path}: its checkpoints continue that parent`,
      {
        file: outDir,
        field: "--from",
        expected: recorded.path,
        got: given,
        fix: `pass --from ${recorded.path} to resume, or finetune from ${given} into another --out`,
      },
    );
  }
  if (parent !== null && parent.sha256 !== recorded.sha256) {
    throw new DiffingError(
      "PARENT_MISMATCH",
      `--resume: the parent ${given} changed since the run started (sha256 ${recorded.sha256.slice(0, 12)}… then, ${parent.sha256.slice(0, 12)}… now)`,
      {
        file: given,
        field: "sha256",
        expected: recorded.sha256,
        got: parent.sha256,
        fix: "restore the parent the run started from, or finetune into another --out",
      },
    );
  }
}
