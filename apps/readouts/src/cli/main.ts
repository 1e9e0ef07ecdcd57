#!/usr/bin/env node
/**
 * difflens readouts CLI: `pnpm --filter readouts <command> [flags]` (runs `tsx src/cli/main.ts <command>`).
 * Exit status: 0 success, 1 a failed check or a run error, 2 bad usage (unknown command/flag, bad config, bad input).
 */
import { runAppCli } from "@difflens/app-kit";
import { type Command, isMainModule, type Log } from "@difflens/common";
import { READOUTS_USAGE_CODES } from "../errors.ts";
import { ATTENTION_MARKER_COMMAND } from "./attention-marker-command.ts";
import { FOLLOW_UP_COMMANDS } from "./follow-up-commands.ts";
import { SAE_CONDITIONS_COMMAND } from "./sae-conditions-command.ts";
import { STEER_COMMAND } from "./steer-command.ts";

export const COMMANDS: Readonly<Record<string, Command>> = {
  "sae-conditions": SAE_CONDITIONS_COMMAND,
  steer: STEER_COMMAND,
  "attention-marker": ATTENTION_MARKER_COMMAND,
  ...FOLLOW_UP_COMMANDS,
};

export function main(argv: readonly string[], log?: Log): Promise<number> {
  const usageCodes = ["OUTPUT_EXISTS", ...READOUTS_USAGE_CODES];
  return runAppCli(COMMANDS, { program: "pnpm --filter readouts", argv, usageCodes, ...(log ? { log } : {}) });
}

if (isMainModule(import.meta.url)) process.exitCode = await main(process.argv.slice(2));
