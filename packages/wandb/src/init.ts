import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import { API_KEY_HELP, findApiKey, runUrl } from "./api-key.ts";
import { WandbError } from "./errors.ts";
import { RUN_FOLDER_FORMAT, RUN_FOLDER_VERSION, type RunManifest } from "./folder/layout.ts";
import { createRunFolder, findRunFolder, type ReopenedRun, reopenRunFolder } from "./folder/run-folder.ts";
import { collectMetadata } from "./machine-info.ts";
import { resolveInitOptions } from "./options.ts";
import { serialiseConfig, WandbRun } from "./run.ts";
import { BackgroundStreamer } from "./streamer.ts";
import { RunUploader } from "./uploader.ts";
import { parseWandbJson } from "./wandb-json.ts";

/** Where init() prints its messages (the folder or URL line at start, streaming trouble). */
export type Say = (message: string) => void;

const defaultSay: Say = (message) => console.log(`wandb: ${message}`);

/**
 * Start a run: validate options, write the run folder, and in online mode start streaming it. Never
 * waits on the network, so a server that is down at start costs nothing (the streamer retries).
 */
export function init(input: unknown, say: Say = defaultSay): WandbRun {
  const options = resolveInitOptions(input);
  const configText = serialiseConfig(options.config);
  const config = parseWandbJson(configText) as Record<string, unknown>;
  if (options.mode === "disabled") return new WandbRun(null, null, config, null, options.stream, false, null);

  const baseUrl = (options.baseUrl ?? process.env["WANDB_BASE_URL"] ?? "https://api.wandb.ai").replace(/\/+$/, "");
  let mode = options.mode;
  const apiKey = mode === "online" ? findApiKey(options.apiKey, baseUrl) : null;
  if (mode === "online" && apiKey === null) {
    if (options.onMissingApiKey === "error") {
      throw new WandbError("API_KEY_MISSING", `no W&B API key for ${baseUrl}`, { field: "apiKey", fix: API_KEY_HELP });
    }
    say(`no API key for ${baseUrl}: running offline; upload later with \`pnpm difflens-wandb sync <folder>\``);
    mode = "offline";
  }

  const now = new Date();
  const id = options.id ?? generateRunId();
  const existing = options.resume === "never" ? null : findRunFolder(resolve(options.dir), id);
  if (existing === null && options.resume === "must") {
    throw new WandbError("RUN_NOT_FOUND", `no folder of run ${id} to resume`, {
      file: resolve(options.dir),
      expected: `a folder run-<time>-${id}`,
      fix: 'pass resume: "allow" to start the run when its folder is gone',
    });
  }
  const reopened: ReopenedRun | null = existing === null ? null : reopenRunFolder(existing, config);
  const folder = existing ?? resolve(options.dir, `run-${stamp(now)}-${id}`);
  const manifest: RunManifest = reopened?.manifest ?? {
    format: RUN_FOLDER_FORMAT,
    version: RUN_FOLDER_VERSION,
    id,
    project: options.project,
    entity: options.entity,
    name: options.name,
    group: options.group,
    jobType: options.jobType,
    tags: [...options.tags],
    notes: options.notes,
    mode: mode === "online" ? "online" : "offline",
    createdAt: now.toISOString(),
  };
  if (reopened === null) {
    createRunFolder(folder, manifest, config, { ...collectMetadata(options.packageVersions, now) });
  }
  const quiet: Say = options.silent ? () => undefined : say;
  const resumed = reopened === null ? null : { lastStep: reopened.lastStep, runtimeS: reopened.runtimeS };
  if (reopened !== null) quiet(`resuming run ${id} after step ${reopened.lastStep} (folder ${folder})`);

  if (mode !== "online" || apiKey === null) {
    quiet(`offline run ${id} in ${folder} — upload it with \`pnpm difflens-wandb sync ${folder}\``);
    return new WandbRun(manifest, folder, config, null, options.stream, options.fsync, null, resumed);
  }
  const uploader = new RunUploader(folder, { baseUrl, apiKey, entity: options.entity }, options.stream);
  const streamer = new BackgroundStreamer(uploader, options.stream, say);
  const urlOf = (entity: string) => runUrl(baseUrl, entity, options.project, id);
  const run = new WandbRun(manifest, folder, config, streamer, options.stream, options.fsync, urlOf, resumed);
  if (options.entity !== null) quiet(`run ${id}: ${urlOf(options.entity)} (folder ${folder})`);
  else {
    quiet(`run ${id} streaming to ${baseUrl} (folder ${folder}); URL once the server names the entity`);
    uploader.onEntity((entity) => quiet(`run ${id}: ${urlOf(entity)}`));
  }
  streamer.start();
  return run;
}

/** 8 characters of [a-z0-9], as W&B run ids. */
export function generateRunId(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  return Array.from(randomBytes(8), (b) => alphabet[b % 36]).join("");
}

function stamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}_${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}
