/**
 * A CLI as a table of commands. Exit status, the same for every difflens CLI:
 *   0 success · 1 a failed check or a run error · 2 bad usage (unknown command or flag, bad value, bad config).
 */

import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { isDifflensError } from "../errors.ts";
import { didYouMean } from "../nearest.ts";
import {
  type FlagSpec,
  formatHelp,
  type ParsedFlags,
  type PositionalSpec,
  parseCommandLine,
  UsageError,
} from "./flags.ts";

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export type Log = (line: string) => void;

export interface CommandContext {
  readonly flags: ParsedFlags;
  readonly positionals: Record<string, string | string[] | undefined>;
  readonly log: Log;
}

export interface Command {
  readonly summary: string;
  readonly flags: readonly FlagSpec[];
  readonly positionals?: readonly PositionalSpec[];
  readonly notes?: readonly string[];
  /** Resolves to the exit status: 0, or 1 for a failed check. Throws on errors. */
  readonly run: (context: CommandContext) => Promise<number> | number;
}

export interface CliOptions {
  /** How a person invokes it, e.g. `pnpm --filter diffing` or `difflens-forward`. */
  readonly program: string;
  readonly argv: readonly string[];
  /** Error codes that mean a usage problem (exit 2), e.g. CONFIG_UNKNOWN_KEY. `USAGE` always does. */
  readonly usageCodes?: readonly string[];
  readonly log?: Log;
  readonly out?: (text: string) => void;
  /** Runs once the command line is parsed and before the command (e.g. picking a compute backend). */
  readonly beforeRun?: (log: Log) => void;
}

const defaultLog: Log = (line) => process.stderr.write(`${line}\n`);
const defaultOut = (text: string): void => {
  process.stdout.write(text);
};

/** A CLI with several commands: `program <command> [flags]`. */
export async function runCommandTable(
  commands: Readonly<Record<string, Command>>,
  options: CliOptions,
): Promise<number> {
  const out = options.out ?? defaultOut;
  const log = options.log ?? defaultLog;
  const [name, ...rest] = options.argv;
  const usage = tableUsage(options.program, commands);
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    out(usage);
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const command = commands[name];
  if (!command) {
    log(`error: unknown command "${name}"${didYouMean(name, Object.keys(commands))}\n\n${usage}`);
    return EXIT_USAGE;
  }
  return runOne(`${options.program} ${name}`, name, command, rest, options);
}

/** A CLI with a single command: `program [flags] [args]`. */
export async function runCommand(command: Command, options: CliOptions): Promise<number> {
  return runOne(options.program, options.program, command, options.argv, options);
}

async function runOne(
  usagePrefix: string,
  label: string,
  command: Command,
  argv: readonly string[],
  options: CliOptions,
): Promise<number> {
  const out = options.out ?? defaultOut;
  const log = options.log ?? defaultLog;
  try {
    const parsed = parseCommandLine(label, argv, command.flags, command.positionals);
    if (parsed.help) {
      const args = (command.positionals ?? []).map((p) => {
        const name = p.name.toUpperCase() + (p.variadic ? "…" : "");
        return p.required === false ? `[${name}]` : name;
      });
      out(
        formatHelp([usagePrefix, ...args, "[flags]"].join(" "), command.summary, command.flags, {
          ...(command.positionals ? { positionals: command.positionals } : {}),
          ...(command.notes ? { notes: command.notes } : {}),
        }),
      );
      return EXIT_OK;
    }
    options.beforeRun?.(log);
    return await command.run({ flags: parsed.flags, positionals: parsed.positionals, log });
  } catch (error) {
    return reportError(error, log, options.usageCodes ?? []);
  }
}

/** Logs an error the way every difflens CLI does and returns its exit status. */
export function reportError(error: unknown, log: Log, usageCodes: readonly string[] = []): number {
  if (error instanceof UsageError) {
    log(`error: ${error.message}`);
    return EXIT_USAGE;
  }
  const err = error as Error & { code?: unknown };
  const code = typeof err?.code === "string" ? err.code : undefined;
  log(`error${code ? ` [${code}]` : ""}: ${err?.message ?? String(error)}`);
  const fix = isDifflensError(error) ? error.facts.fix : undefined;
  if (typeof fix === "string" && !err.message.includes(fix)) log(`  fix: ${fix}`);
  if (process.env["DIFFLENS_DEBUG"]) log(err?.stack ?? "");
  return code !== undefined && usageCodes.includes(code) ? EXIT_USAGE : EXIT_FAILED;
}

function tableUsage(program: string, commands: Readonly<Record<string, Command>>): string {
  const names = Object.keys(commands);
  const width = Math.max(...names.map((n) => n.length)) + 2;
  return [
    `usage: ${program} <command> [flags]   (each command has --help)`,
    "",
    "commands:",
    ...names.map((n) => `  ${n.padEnd(width)}${commands[n]!.summary}`),
    "",
  ].join("\n");
}

/** True when the module at `importMetaUrl` is the script Node was started with (symlinks resolved). */
export function isMainModule(importMetaUrl: string): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(importMetaUrl));
  } catch {
    return false;
  }
}
