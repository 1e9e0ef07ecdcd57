import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { cpus, hostname, platform, release } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** What ran, where and with which versions: written to metadata.json, uploaded as wandb-metadata.json. */
export interface RunMetadata {
  readonly startedAt: string;
  readonly host: string;
  readonly os: string;
  readonly cpuCount: number;
  /** Script path relative to the working directory (no absolute paths in a run folder). */
  readonly program: string | null;
  readonly args: readonly string[];
  readonly git: { readonly commit: string | null; readonly remote: string | null; readonly dirty: boolean | null };
  readonly runtime: { readonly node: string };
  readonly packageVersions: Readonly<Record<string, string>>;
}

export function collectMetadata(extraVersions: Readonly<Record<string, string>>, now: Date = new Date()): RunMetadata {
  const script = process.argv[1];
  return {
    startedAt: now.toISOString(),
    host: hostname(),
    os: `${platform()}-${release()}`,
    cpuCount: cpus().length,
    program: script === undefined ? null : relative(process.cwd(), script) || script,
    args: process.argv.slice(2),
    git: gitInfo(),
    runtime: { node: process.version },
    packageVersions: { ...ownVersions(), ...extraVersions },
  };
}

function git(args: string[]): string | null {
  try {
    return execFileSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 3000 }).trim();
  } catch {
    return null;
  }
}

function gitInfo(): RunMetadata["git"] {
  const commit = git(["rev-parse", "HEAD"]);
  if (commit === null) return { commit: null, remote: null, dirty: null };
  const status = git(["status", "--porcelain", "--untracked-files=no"]);
  return { commit, remote: git(["remote", "get-url", "origin"]), dirty: status === null ? null : status.length > 0 };
}

function ownVersions(): Record<string, string> {
  const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");
  const out: Record<string, string> = {};
  for (const file of [
    join(packageDir, "package.json"),
    join(packageDir, "node_modules", "@wandb", "sdk", "package.json"),
  ]) {
    if (!existsSync(file)) continue;
    try {
      const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string };
      if (pkg.name !== undefined && pkg.version !== undefined) out[pkg.name] = pkg.version;
    } catch {
      // a damaged package.json only costs a version line
    }
  }
  return out;
}
