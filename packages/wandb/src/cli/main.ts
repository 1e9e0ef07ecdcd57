// difflens-wandb: upload run folders to W&B. `pnpm difflens-wandb sync <run folder>...`
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { WandbError } from "../errors.ts";
import { syncRunFolder } from "../sync.ts";

const HELP = `difflens-wandb — upload difflens run folders to Weights & Biases

Usage:
  pnpm difflens-wandb sync <run folder>... [options]
  pnpm difflens-wandb --help

sync replays an offline, interrupted or crashed run folder to W&B. It is idempotent: history line i is
always sent at offset i and the acknowledged offset is kept in the folder, so running it twice sends
nothing twice. Network errors are retried with exponential backoff and jitter.

Options:
  --base-url <url>    API server (default $WANDB_BASE_URL or https://api.wandb.ai)
  --entity <name>     upload under this entity instead of the one recorded in the folder
  --exit-code <n>     close a run that has no exit record (it crashed) with this exit code
  --timeout-s <s>     give up retrying after this many seconds (default 600)
  -h, --help          show this help

Authentication: $WANDB_API_KEY, else the ~/.netrc entry written by \`wandb login\`.
Exit status: 0 all folders synced, 1 an error (message names the folder and the fix), 2 bad usage.`;

interface Parsed {
  folders: string[];
  baseUrl?: string;
  entity?: string;
  exitCode?: number;
  timeoutMs?: number;
}

function parse(args: string[]): Parsed | "help" | string {
  if (args.length === 0 || args.includes("-h") || args.includes("--help")) return "help";
  const [command, ...rest] = args;
  if (command !== "sync") return `unknown command ${JSON.stringify(command)} (expected "sync")`;
  const out: Parsed = { folders: [] };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    const value = rest[i + 1];
    const needValue = (): string | null => (value === undefined || value.startsWith("--") ? null : (i++, value));
    if (arg === "--base-url" || arg === "--entity" || arg === "--exit-code" || arg === "--timeout-s") {
      const v = needValue();
      if (v === null) return `${arg} needs a value`;
      if (arg === "--base-url") out.baseUrl = v;
      else if (arg === "--entity") out.entity = v;
      else {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0) return `${arg} needs a non-negative integer, got ${JSON.stringify(v)}`;
        if (arg === "--exit-code") out.exitCode = n;
        else out.timeoutMs = n * 1000;
      }
    } else if (arg.startsWith("--")) {
      return `unknown option ${arg}`;
    } else out.folders.push(arg);
  }
  if (out.folders.length === 0) return "sync needs at least one run folder";
  return out;
}

export async function main(args: string[]): Promise<number> {
  const parsed = parse(args);
  if (parsed === "help") {
    console.log(HELP);
    return 0;
  }
  if (typeof parsed === "string") {
    console.error(`difflens-wandb: ${parsed}\n(run with --help for usage)`);
    return 2;
  }
  let failed = false;
  for (const folder of parsed.folders) {
    try {
      const report = await syncRunFolder(folder, {
        ...(parsed.baseUrl !== undefined ? { baseUrl: parsed.baseUrl } : {}),
        ...(parsed.entity !== undefined ? { entity: parsed.entity } : {}),
        ...(parsed.exitCode !== undefined ? { exitCode: parsed.exitCode } : {}),
        ...(parsed.timeoutMs !== undefined ? { timeoutMs: parsed.timeoutMs } : {}),
        say: (m) => console.error(`  ${m}`),
      });
      const state = report.completed ? "closed" : report.unfinished ? "no exit record (crashed or still running; --exit-code closes it)" : "open";
      console.log(
        `${folder}: ${report.localLines} history lines, ${report.sentLines} sent now, ${report.acknowledgedLines} on the server; ` +
          `${report.filesUploaded} files uploaded; run ${state}${report.url !== null ? `; ${report.url}` : ""}`,
      );
    } catch (error) {
      failed = true;
      console.error(`${folder}: ${error instanceof WandbError ? error.message : String(error)}`);
    }
  }
  return failed ? 1 : 0;
}

const invokedDirectly = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1]);
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
