#!/usr/bin/env node
/**
 * pnpm difflens-download ORG/NAME[@rev] [--revision R] [--cache-dir DIR] [--endpoint URL] [--file PATH ...]
 *
 * Puts a model repo into the Hugging Face Hub cache (or finds it there) with `downloadModel`: progress on stderr,
 * partial files resumed, sha256 checked. Prints the snapshot folder on stdout, ready for `--model`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import {
  type CliOptions,
  type Command,
  type CommandContext,
  isMainModule,
  type Log,
  parseRepoId,
  runCommand,
  UsageError,
} from "@difflens/common";
import { type DownloadOptions, downloadModel } from "../hub/download.ts";

const PROGRAM = "difflens-download";

const DOWNLOAD: Omit<Command, "run"> = {
  summary:
    "Download a model (or named files of any repo) from the Hugging Face Hub into the Hub cache; print its snapshot folder.",
  positionals: [{ name: "repo", help: "ORG/NAME, or ORG/NAME@REVISION" }],
  flags: [
    {
      name: "revision",
      kind: "string",
      value: "R",
      help: "branch, tag or commit (default main, or the name's @REVISION)",
    },
    {
      name: "cache-dir",
      kind: "string",
      value: "DIR",
      help: "Hub cache (default $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub)",
    },
    {
      name: "endpoint",
      kind: "string",
      value: "URL",
      help: "Hub server (default $HF_ENDPOINT, else https://huggingface.co)",
    },
    {
      name: "file",
      kind: "strings",
      value: "PATH",
      help: "a file inside the repo to fetch instead of the model files (repeatable; e.g. an SAE's ae.pt and config.json)",
    },
  ],
  notes: [
    "Fetches config.json, the tokenizer and generation files and model.safetensors (or its shards), or with --file",
    "exactly the files named (paths inside the repo, e.g. resid_post_layer_15/trainer_1/ae.pt). A file already in",
    "the cache is not fetched again; an interrupted download resumes where it stopped; a file whose sha256 differs",
    "from the Hub's is deleted and reported. Gated or private repos need $HF_TOKEN. HF_HUB_OFFLINE=1: cache only.",
    "Exit status: 0 downloaded (or already there), 1 a run error (network, HTTP, checksum), 2 bad usage.",
  ],
};

/** Runs the CLI on `argv` (without the program name); resolves to the exit status. */
export async function main(argv: readonly string[], io: Pick<CliOptions, "out" | "log"> = {}): Promise<number> {
  const out = io.out ?? ((text: string) => void process.stdout.write(text));
  return runCommand(
    { ...DOWNLOAD, run: (context) => download(context, out) },
    {
      program: PROGRAM,
      argv,
      usageCodes: ["BAD_ARGUMENT"],
      ...io,
    },
  );
}

async function download({ flags, positionals, log }: CommandContext, out: (text: string) => void): Promise<number> {
  const spec = positionals["repo"] as string;
  const parsed = parseRepoId(spec);
  if (parsed === undefined) {
    throw new UsageError("USAGE", `${PROGRAM}: "${spec}" is not ORG/NAME[@REVISION] (e.g. Qwen/Qwen1.5-0.5B)`, {
      field: "REPO",
      got: spec,
    });
  }
  const flagRevision = flags["revision"] as string | undefined;
  if (flagRevision !== undefined && spec.includes("@") && flagRevision !== parsed.revision) {
    const why = `${PROGRAM}: "${spec}" names revision ${parsed.revision}, --revision says ${flagRevision}`;
    throw new UsageError("USAGE", why, { field: "--revision", got: flagRevision });
  }
  const revision = flagRevision ?? parsed.revision;
  const options: DownloadOptions = {
    revision,
    ...(flags["cache-dir"] !== undefined ? { cacheDir: flags["cache-dir"] as string } : {}),
    ...(flags["endpoint"] !== undefined ? { endpoint: flags["endpoint"] as string } : {}),
    ...(flags["file"] !== undefined ? { files: flags["file"] as string[] } : {}),
    // A terminal gets downloadModel's one-line bar; a log file gets one line per finished file.
    ...(process.stderr.isTTY ? {} : { onProgress: finishedFiles(log) }),
  };
  const started = performance.now();
  const snapshot = await downloadModel(parsed.repoId, options);
  const { files, bytes } = snapshotSize(snapshot);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  log(`${parsed.repoId}@${revision}: ${files} files, ${(bytes / 1e6).toFixed(1)} MB in ${snapshot} (${seconds} s)`);
  out(`${snapshot}\n`);
  return 0;
}

/** A progress callback that logs each file once, when its last byte arrived. */
function finishedFiles(log: Log): NonNullable<DownloadOptions["onProgress"]> {
  return ({ file, received, total }) => {
    if (received === total) log(`  ${file}: ${(total / 1e6).toFixed(1)} MB`);
  };
}

/** Files and bytes in a snapshot folder (its entries are links to blobs: sizes are the blobs'). */
function snapshotSize(snapshot: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const name of fs.readdirSync(snapshot, { recursive: true }) as string[]) {
    const stats = fs.statSync(path.join(snapshot, name));
    if (!stats.isFile()) continue;
    files++;
    bytes += stats.size;
  }
  return { files, bytes };
}

if (isMainModule(import.meta.url)) main(process.argv.slice(2)).then((code) => process.exit(code));
