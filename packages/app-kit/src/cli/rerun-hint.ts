/**
 * What to type after an interruption. A long job stopped by Ctrl-C (SIGINT) or a scheduler (SIGTERM) keeps its last
 * checkpoint; the person needs the exact command line that continues it. Printed once per signal, then the process
 * exits as a killed one would (130 / 143), so an interrupted run behaves exactly as before, only explained.
 */
import type { Log } from "@difflens/common";
import type { AppFlagSpec } from "./command-paths.ts";

export interface RerunHintOptions {
  /** How the person invokes the CLI, e.g. `pnpm --filter diffing`. */
  readonly program: string;
  /** The command line after the program, command name first, exactly as typed. */
  readonly argv: readonly string[];
  readonly flags: readonly AppFlagSpec[];
  readonly log: Log;
  /** After the hint (default: `process.exit(130)` for SIGINT, 143 for SIGTERM). */
  readonly onSignal?: (signal: NodeJS.Signals) => void;
}

const SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM"];

/** The command line that continues this one: the same, plus `--resume` when the command has that flag. */
export function rerunCommandLine(program: string, argv: readonly string[], flags: readonly AppFlagSpec[]): string {
  const resumable = flags.some((f) => f.name === "resume");
  const args = [...argv];
  if (resumable && !args.includes("--resume")) args.push("--resume");
  return [program, ...args.map(shellQuote)].join(" ");
}

/** Runs `job` with SIGINT/SIGTERM answered by the rerun line (once), then `onSignal`. */
export async function withRerunHint<T>(options: RerunHintOptions, job: () => Promise<T>): Promise<T> {
  let said = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (!said) {
      said = true;
      const line = rerunCommandLine(options.program, options.argv, options.flags);
      const how = options.flags.some((f) => f.name === "resume")
        ? "continue from the last checkpoint with"
        : "rerun with";
      options.log(`\ninterrupted (${signal}); ${how}:\n  ${line}`);
    }
    (options.onSignal ?? exitAsKilled)(signal);
  };
  for (const signal of SIGNALS) process.on(signal, handler);
  try {
    return await job();
  } finally {
    for (const signal of SIGNALS) process.off(signal, handler);
  }
}

function exitAsKilled(signal: NodeJS.Signals): void {
  process.exit(signal === "SIGINT" ? 130 : 143);
}

/** A word the shell reads back unchanged: as is when plain, else in single quotes. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
