// difflens-wandb: upload run folders to W&B. `pnpm difflens-wandb sync <run folder>...`
import {
  type CliOptions,
  type Command,
  type CommandContext,
  isMainModule,
  runCommandTable,
  UsageError,
} from "@difflens/common";
import { WandbError } from "../errors.ts";
import { syncRunFolder } from "../sync.ts";

const PROGRAM = "pnpm difflens-wandb";

const SYNC: Command = {
  summary: "upload offline, interrupted or crashed run folders: pnpm difflens-wandb sync <run folder>... [flags]",
  positionals: [{ name: "run-folder", help: "one or more difflens run folders", variadic: true }],
  flags: [
    { name: "base-url", kind: "string", value: "URL", help: "API server (default $WANDB_BASE_URL, else api.wandb.ai)" },
    { name: "entity", kind: "string", value: "NAME", help: "upload under this entity instead of the folder's own" },
    { name: "exit-code", kind: "integer", value: "N", help: "close a crashed run (no exit record) with this code" },
    { name: "timeout-s", kind: "integer", value: "S", help: "give up retrying after this many seconds (default 600)" },
  ],
  notes: [
    "sync replays a run folder to W&B. It is idempotent: history line i is always sent at offset i and the",
    "acknowledged offset is kept in the folder, so running it twice sends nothing twice. Network errors are retried",
    "with exponential backoff and jitter.",
    "",
    "Authentication: $WANDB_API_KEY, else the ~/.netrc entry written by `wandb login`.",
    "Exit status: 0 all folders synced, 1 an error (message names the folder and the fix), 2 bad usage.",
  ],
  run: sync,
};

/** Runs the CLI on `args` (without the program name); resolves to the exit status. */
export async function main(args: readonly string[], io: Pick<CliOptions, "out" | "log"> = {}): Promise<number> {
  return runCommandTable({ sync: SYNC }, { program: PROGRAM, argv: args, log: (line) => console.error(line), ...io });
}

function nonNegative(flags: CommandContext["flags"], name: string): number | undefined {
  const value = flags[name] as number | undefined;
  if (value !== undefined && value < 0) {
    throw new UsageError("USAGE", `sync: --${name} needs a non-negative integer, got ${value} (see --help)`, {
      field: `--${name}`,
      got: value,
    });
  }
  return value;
}

async function sync({ flags, positionals }: CommandContext): Promise<number> {
  const exitCode = nonNegative(flags, "exit-code");
  const timeoutS = nonNegative(flags, "timeout-s");
  const baseUrl = flags["base-url"] as string | undefined;
  const entity = flags["entity"] as string | undefined;
  let failed = false;
  for (const folder of positionals["run-folder"] as string[]) {
    try {
      const report = await syncRunFolder(folder, {
        ...(baseUrl !== undefined ? { baseUrl } : {}),
        ...(entity !== undefined ? { entity } : {}),
        ...(exitCode !== undefined ? { exitCode } : {}),
        ...(timeoutS !== undefined ? { timeoutMs: timeoutS * 1000 } : {}),
        say: (m) => console.error(`  ${m}`),
      });
      const state = report.completed
        ? "closed"
        : report.unfinished
          ? "no exit record (crashed or still running; --exit-code closes it)"
          : "open";
      const lines =
        `${report.localLines} history lines, ${report.sentLines} sent now, ` +
        `${report.acknowledgedLines} on the server`;
      const url = report.url !== null ? `; ${report.url}` : "";
      console.log(`${folder}: ${lines}; ${report.filesUploaded} files uploaded; run ${state}${url}`);
    } catch (error) {
      failed = true;
      console.error(`${folder}: ${error instanceof WandbError ? error.message : String(error)}`);
    }
  }
  return failed ? 1 : 0;
}

if (isMainModule(import.meta.url)) main(process.argv.slice(2)).then((code) => process.exit(code));
