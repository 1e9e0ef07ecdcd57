/**
 * An experiment app's CLI: a command table run by common's `runCommandTable` (`--help` per command, unknown
 * commands and flags answered with the nearest valid one, exit 0 ok / 1 failed check or run error / 2 usage), where
 * config errors count as usage errors too, and the compute backend is chosen (and logged) before a command runs.
 */
import { type CliOptions, type Command, type FlagSpec, runCommandTable } from "@difflens/common";
import { useBackend } from "@difflens/tensor";

/** Error codes of a config a person got wrong: exit status 2, like a bad flag. */
export const CONFIG_ERROR_CODES: readonly string[] = ["CONFIG_UNKNOWN_KEY", "CONFIG_INVALID", "CONFIG_NOT_FOUND"];

export interface AppCliOptions extends Omit<CliOptions, "beforeRun"> {
  /** Compute backend chosen before a command runs (default "auto": native when it loads, else js). */
  readonly backend?: "auto" | "native" | "js";
}

export function runAppCli(commands: Readonly<Record<string, Command>>, options: AppCliOptions): Promise<number> {
  const { backend = "auto", usageCodes = [], ...rest } = options;
  return runCommandTable(commands, {
    ...rest,
    usageCodes: [...CONFIG_ERROR_CODES, ...usageCodes],
    beforeRun: (log) => log(`backend: ${useBackend(backend).name}`),
  });
}

/** `--config FILE`; an app may override `help`: `{ ...CONFIG_FLAG, help: "…" }`. */
export const CONFIG_FLAG: FlagSpec = {
  name: "config",
  kind: "string",
  value: "FILE",
  help: "config file (JSON); relative paths in it resolve from its folder",
};

/** `--run-dir DIR`: the run folder, overriding the config's. */
export const RUN_DIR_FLAG: FlagSpec = {
  name: "run-dir",
  kind: "string",
  value: "DIR",
  help: "run folder (overrides the config's)",
};

/** `--wandb MODE`: experiment tracking for this run. */
export const WANDB_FLAG: FlagSpec = {
  name: "wandb",
  kind: "string",
  value: "MODE",
  help: "offline (default) | online | disabled",
};
