#!/usr/bin/env node
/**
 * difflens diffing CLI: `pnpm --filter diffing <command> [flags]` (runs `tsx src/cli/main.ts <command>`).
 * Exit status: 0 success, 1 a failed check or a run error, 2 bad usage (unknown command/flag, bad config).
 */
import { runAppCli } from "@difflens/app-kit";
import { type Command, isMainModule, type Log } from "@difflens/common";
import { METHODS_REPORT_FLAGS, methodsReportCommand } from "./methods-commands.ts";
import {
  COMPARE_FLAGS,
  compareCommand,
  DEMO_FLAGS,
  demoCommand,
  FEATURES_FLAGS,
  featuresCommand,
  STAGE_FLAGS,
  stageCommand,
} from "./pipeline-commands.ts";
import { FINETUNE_FLAGS, TRAIN_FLAGS, trainCommand } from "./train-commands.ts";

export const COMMANDS: Readonly<Record<string, Command>> = {
  demo: {
    summary:
      "Train S, D, M, DF, MF on the embedded toy pair, compare, and check that the planted direction u is recovered (exit 1 when not).",
    flags: DEMO_FLAGS,
    notes: ["The control (--no-plant: chat model = base model) must fail the check: there is nothing to find."],
    run: ({ flags, log }) => demoCommand(flags, log),
  },
  "train-stage0": {
    summary: "Stage S: a TopK SAE on the base model and base text (or adopt stages.S.pretrained).",
    flags: STAGE_FLAGS,
    run: ({ flags, log }) => stageCommand("train-stage0", flags, log),
  },
  "train-stage1": {
    summary: "Stage 1: D (base model, chat data) and M (chat model, base text), both finetuned from S.",
    flags: STAGE_FLAGS,
    run: ({ flags, log }) => stageCommand("train-stage1", flags, log),
  },
  "train-stage2": {
    summary: "Stage 2: DF (from D) and MF (from M), both on the chat model and chat data.",
    flags: STAGE_FLAGS,
    notes: [
      "With the default config, missing parents (S, D, M) are trained first; with any other config a missing parent is an error naming the command that makes it, unless --with-parents.",
    ],
    run: ({ flags, log }) => stageCommand("train-stage2", flags, log),
  },
  compare: {
    summary:
      "Per-latent decoder and encoder cosines (S–D, S–M, D–DF, M–MF), the two-stage scatter and ranking, the per-latent table.",
    flags: COMPARE_FLAGS,
    run: ({ flags, log }) => compareCommand(flags, log),
  },
  features: {
    summary:
      "Max-activating contexts of the top-ranked latents (D on the base model, MF on the chat model) and every latent's density and top decoder logits in every stage: features.json, latent-stats-<stage>.safetensors, index.html.",
    flags: FEATURES_FLAGS,
    run: ({ flags, log }) => featuresCommand(flags, log),
  },
  "methods-report": {
    summary:
      "Crosscoders (BatchTopK, L1), diff-SAE, ADL and stage-wise diffing on one pair, side by side: run folder + report page (default: the three-plant toy).",
    flags: METHODS_REPORT_FLAGS,
    run: ({ flags, log }) => methodsReportCommand(flags, log),
  },
  train: {
    summary: "Train one TopK SAE from scratch on one model, hook and dataset.",
    flags: TRAIN_FLAGS,
    run: ({ flags, log }) => trainCommand(flags, "train", log),
  },
  finetune: {
    summary: "Finetune an SAE checkpoint (lineage recorded) on another model or dataset.",
    flags: FINETUNE_FLAGS,
    run: ({ flags, log }) => trainCommand(flags, "finetune", log),
  },
};

export function main(argv: readonly string[], log?: Log): Promise<number> {
  // Refusing to overwrite or to mix configs is answered like a usage error: nothing ran, the command line must change.
  const usageCodes = ["OUTPUT_EXISTS", "FINGERPRINT_MISMATCH"];
  return runAppCli(COMMANDS, { program: "pnpm --filter diffing", argv, usageCodes, ...(log ? { log } : {}) });
}

if (isMainModule(import.meta.url)) process.exitCode = await main(process.argv.slice(2));
