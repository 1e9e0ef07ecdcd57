// The run folder is the contract between a live run, the background streamer and `difflens-wandb sync`:
//   run.json          identity (format marker, id, project, entity, name, group, tags, notes, mode, createdAt)
//   config.json       config as last updated (atomic rewrite)
//   summary.json      summary values set explicitly (logged metrics fold into the summary on upload)
//   metadata.json     git commit, command line, host, runtime and package versions
//   history.jsonl     one W&B history row per line, appended and flushed per record (W&B JSON dialect)
//   files/            files to upload (figures, result JSON), written atomically
//   exit.json         written by finish(): { exitCode, finishedAt }
//   sync-state.json   per server: what the server acknowledged (history offset, summary, files, complete)
// No absolute paths inside, so a folder can be copied to another machine and synced from there.

export const RUN_FOLDER_FORMAT = "difflens-wandb-run";
export const RUN_FOLDER_VERSION = 1;

export const FILES = Object.freeze({
  run: "run.json",
  config: "config.json",
  summary: "summary.json",
  metadata: "metadata.json",
  history: "history.jsonl",
  filesDir: "files",
  exit: "exit.json",
  syncState: "sync-state.json",
});

/** Identity of a run, as written to run.json. */
export interface RunManifest {
  readonly format: typeof RUN_FOLDER_FORMAT;
  readonly version: number;
  readonly id: string;
  readonly project: string;
  readonly entity: string | null;
  readonly name: string | null;
  readonly group: string | null;
  readonly jobType: string | null;
  readonly tags: readonly string[];
  readonly notes: string | null;
  readonly mode: "online" | "offline";
  /** ISO time the run started. */
  readonly createdAt: string;
}

/** Written by finish(). */
export interface ExitRecord {
  readonly exitCode: number;
  readonly finishedAt: string;
}
