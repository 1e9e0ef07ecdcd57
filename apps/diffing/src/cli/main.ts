#!/usr/bin/env node
/**
 * difflens diffing CLI: `pnpm --filter diffing <command> [flags]` (runs `tsx src/cli/main.ts <command>`).
 * Exit status: 0 success, 1 a failed check or a run error, 2 bad usage (unknown command/flag, bad config).
 */
import { useBackend } from "@difflens/tensor";
import { DiffingError } from "../errors.ts";
import { didYouMean } from "../nearest.ts";
import { formatHelp, parseFlags, type FlagSpec, type ParsedFlags } from "./args.ts";
import { COMPARE_FLAGS, DEMO_FLAGS, STAGE_FLAGS, compareCommand, demoCommand, featuresCommand, stageCommand } from "./pipeline-commands.ts";
import { FINETUNE_FLAGS, TRAIN_FLAGS, trainCommand } from "./train-commands.ts";

type Log = (line: string) => void;
interface Command { summary: string; flags: readonly FlagSpec[]; notes?: string[]; run: (flags: ParsedFlags, log: Log) => Promise<number> }

const COMMANDS: Readonly<Record<string, Command>> = {
  demo: {
    summary: "Train S, D, M, DF, MF on the embedded toy pair, compare, and check that the planted direction u is recovered (exit 1 when not).",
    flags: DEMO_FLAGS,
    notes: ["The control (--no-plant: chat model = base model) must fail the check: there is nothing to find."],
    run: (f, log) => demoCommand(f, log),
  },
  "train-stage0": { summary: "Stage S: a TopK SAE on the base model and base text (or adopt stages.S.pretrained).", flags: STAGE_FLAGS, run: (f, log) => stageCommand("train-stage0", f, log) },
  "train-stage1": { summary: "Stage 1: D (base model, chat data) and M (chat model, base text), both finetuned from S.", flags: STAGE_FLAGS, run: (f, log) => stageCommand("train-stage1", f, log) },
  "train-stage2": {
    summary: "Stage 2: DF (from D) and MF (from M), both on the chat model and chat data.",
    flags: STAGE_FLAGS,
    notes: ["With the default config, missing parents (S, D, M) are trained first; with any other config a missing parent is an error naming the command that makes it, unless --with-parents."],
    run: (f, log) => stageCommand("train-stage2", f, log),
  },
  compare: { summary: "Per-latent decoder and encoder cosines (S–D, S–M, D–DF, M–MF), the two-stage scatter and ranking, the per-latent table.", flags: COMPARE_FLAGS, run: (f, log) => compareCommand(f, log) },
  features: { summary: "Max-activating contexts of the top-ranked latents (D on the base model, MF on the chat model): features.json + index.html.", flags: COMPARE_FLAGS, run: (f, log) => featuresCommand(f, log) },
  train: { summary: "Train one TopK SAE from scratch on one model, hook and dataset.", flags: TRAIN_FLAGS, run: (f, log) => trainCommand(f, "train", log) },
  finetune: { summary: "Finetune an SAE checkpoint (lineage recorded) on another model or dataset.", flags: FINETUNE_FLAGS, run: (f, log) => trainCommand(f, "finetune", log) },
};

function usage(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((n) => n.length)) + 2;
  return ["usage: pnpm --filter diffing <command> [flags]   (each command has --help)", "", "commands:", ...names.map((n) => `  ${n.padEnd(width)}${COMMANDS[n]!.summary}`), ""].join("\n");
}

export async function main(argv: readonly string[], log: Log = (l) => process.stderr.write(`${l}\n`)): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "help") {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  try {
    if (!command) throw new DiffingError("UNKNOWN_COMMAND", `unknown command "${name}"${didYouMean(name, Object.keys(COMMANDS))}\n\n${usage()}`, { got: name });
    const flags = parseFlags(name, rest, command.flags);
    if (flags.help) {
      process.stdout.write(formatHelp(`pnpm --filter diffing ${name} [flags]`, command.summary, command.flags, command.notes));
      return 0;
    }
    const backend = useBackend("auto");
    log(`backend: ${backend.name}`);
    return await command.run(flags, log);
  } catch (e) {
    if (e instanceof DiffingError) {
      log(`error [${e.code}]: ${e.message}`);
      return ["UNKNOWN_FLAG", "UNKNOWN_COMMAND", "BAD_FLAG_VALUE", "CONFIG_UNKNOWN_KEY", "CONFIG_INVALID", "CONFIG_NOT_FOUND"].includes(e.code) ? 2 : 1;
    }
    const err = e as Error & { code?: string };
    log(`error${err.code ? ` [${err.code}]` : ""}: ${err.message}`);
    if (process.env.DIFFLENS_DEBUG) log(err.stack ?? "");
    return 1;
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (invokedDirectly) process.exitCode = await main(process.argv.slice(2));
