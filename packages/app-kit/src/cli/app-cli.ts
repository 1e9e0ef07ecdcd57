/**
 * An experiment app's CLI: a command table run by common's `runCommandTable` (`--help` per command, unknown
 * commands and flags answered with the nearest valid one, exit 0 ok / 1 failed check or run error / 2 usage), where
 * config errors count as usage errors too, path flags resolve from where the command was typed (INIT_CWD under
 * pnpm), an interrupted command prints the line that continues it, and the compute backend is chosen (and logged)
 * before a command runs: every command takes `--backend auto|native|js|webgpu` (else DIFFLENS_BACKEND, else auto).
 */
import { type CliOptions, type Command, runCommandTable, UsageError } from "@difflens/common";
import { type Backend, selectBackend } from "@difflens/tensor";
import { type AppFlagSpec, invocationDir, resolvePathFlags } from "./command-paths.ts";
import { withRerunHint } from "./rerun-hint.ts";

/** Error codes of a config a person got wrong: exit status 2, like a bad flag. */
export const CONFIG_ERROR_CODES: readonly string[] = ["CONFIG_UNKNOWN_KEY", "CONFIG_INVALID", "CONFIG_NOT_FOUND"];

export interface AppCliOptions extends Omit<CliOptions, "beforeRun"> {
  /**
   * Compute backend when the command line names none (default: DIFFLENS_BACKEND, else "auto" — native when it
   * loads, else js). `--backend` wins over both.
   */
  readonly backend?: "auto" | "native" | "js" | "webgpu";
  /** Base of relative path flags (default `invocationDir()`: INIT_CWD under pnpm/npm, else the cwd). */
  readonly invocationDir?: string;
  /** Called after the rerun hint on SIGINT/SIGTERM (default: exit 130 / 143, as if killed). Tests stub it. */
  readonly onSignal?: (signal: NodeJS.Signals) => void;
}

export function runAppCli(commands: Readonly<Record<string, Command>>, options: AppCliOptions): Promise<number> {
  const { backend, usageCodes = [], invocationDir: base = invocationDir(), onSignal, ...rest } = options;
  const wrapped: Record<string, Command> = {};
  for (const [name, command] of Object.entries(commands)) {
    const flags = withBackendFlag(command.flags as readonly AppFlagSpec[]);
    wrapped[name] = {
      ...command,
      flags,
      run: async (context) => {
        const chosen = await chooseBackend(context.flags["backend"], backend);
        context.log(`backend: ${chosen.name}`);
        const hint = {
          program: rest.program,
          argv: rest.argv,
          flags,
          log: context.log,
          ...(onSignal ? { onSignal } : {}),
        };
        return withRerunHint(hint, async () =>
          command.run({ ...context, flags: resolvePathFlags(context.flags, flags, base) }),
        );
      },
    };
  }
  return runCommandTable(wrapped, { ...rest, usageCodes: [...CONFIG_ERROR_CODES, ...usageCodes] });
}

/** `--backend NAME`: every app command takes it (runAppCli adds it where a command does not declare it). */
export const BACKEND_FLAG: AppFlagSpec = {
  name: "backend",
  kind: "string",
  value: "NAME",
  help: "compute backend: auto (native, else js) | native | js | webgpu (default: $DIFFLENS_BACKEND, else auto)",
};

function withBackendFlag(flags: readonly AppFlagSpec[]): AppFlagSpec[] {
  return flags.some((f) => f.name === BACKEND_FLAG.name) ? [...flags] : [...flags, BACKEND_FLAG];
}

/**
 * The backend a command runs on: `--backend`, else the app's default, else DIFFLENS_BACKEND, else auto. A name that
 * is not a backend is a usage error (exit 2); a backend that cannot start here (no GPU adapter) is a run error.
 */
export async function chooseBackend(flag: unknown, fallback?: string): Promise<Backend> {
  const requested = typeof flag === "string" ? flag : fallback;
  try {
    return await selectBackend(requested);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code !== "BAD_ARGUMENT") throw error;
    throw new UsageError("USAGE", (error as Error).message, { field: "--backend" });
  }
}

/** `--config FILE`; an app may override `help`: `{ ...CONFIG_FLAG, help: "…" }`. */
export const CONFIG_FLAG: AppFlagSpec = {
  name: "config",
  kind: "string",
  value: "FILE",
  path: true,
  help: "config file (JSON); relative paths in it resolve from its folder",
};

/** `--run-dir DIR`: the run folder, overriding the config's. */
export const RUN_DIR_FLAG: AppFlagSpec = {
  name: "run-dir",
  kind: "string",
  value: "DIR",
  path: true,
  help: "run folder (overrides the config's)",
};

/** `--wandb MODE`: experiment tracking for this run. */
export const WANDB_FLAG: AppFlagSpec = {
  name: "wandb",
  kind: "string",
  value: "MODE",
  help: "offline (default) | online | disabled",
};

/** `--dry-run`: check every input and print the plan; train, compute and write nothing. */
export const DRY_RUN_FLAG: AppFlagSpec = {
  name: "dry-run",
  kind: "boolean",
  help: "check every input (preflight) and print the plan — stages, tokens, time, disk — then stop; writes nothing",
};
