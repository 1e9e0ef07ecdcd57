import { nearest } from "@difflens/common";
import { WandbError } from "./errors.ts";
import { describe } from "./wandb-json.ts";

/** online: write the folder and stream it; offline: write the folder only (sync later); disabled: do nothing. */
export type RunMode = "online" | "offline" | "disabled";

/** Retry policy for every request to W&B: exponential backoff with jitter, retried until the deadline. */
export interface RetryOptions {
  /** First delay after a failed request, in ms. */
  readonly initialDelayMs: number;
  /** Upper bound on one delay, in ms. */
  readonly maxDelayMs: number;
  /** Factor between consecutive delays. */
  readonly multiplier: number;
  /** Random extra fraction added to each delay (0.25 → up to +25%), so many clients do not retry in step. */
  readonly jitter: number;
  /** A request that has not answered after this many ms is aborted and retried. */
  readonly requestTimeoutMs: number;
}

/** How the background streamer batches records to W&B. */
export interface StreamOptions {
  /** Wait this long between sends while the run is live, so records batch up. */
  readonly batchIntervalMs: number;
  /** Most history lines in one file_stream request. */
  readonly maxLinesPerRequest: number;
  /** Most bytes of history in one request (the Python client splits at 10 MB). */
  readonly maxBytesPerRequest: number;
  /** Send an empty file_stream request after this long without traffic, so W&B sees the run alive. */
  readonly heartbeatMs: number;
  /** finish() waits at most this long for the upload to drain; the rest stays in the folder for `sync`. */
  readonly finishTimeoutMs: number;
  readonly retry: RetryOptions;
}

export interface InitOptions {
  /** W&B project. */
  readonly project: string;
  /** W&B entity (user or team); null: the API key's default entity, asked from the server. */
  readonly entity: string | null;
  /** Display name of the run. */
  readonly name: string | null;
  /** Run group (W&B `groupName`). */
  readonly group: string | null;
  /** W&B job type. */
  readonly jobType: string | null;
  readonly tags: readonly string[];
  readonly notes: string | null;
  /** Hyperparameters; must be plain JSON-like data. */
  readonly config: Readonly<Record<string, unknown>>;
  readonly mode: RunMode;
  /** Folder under which the run folder `run-YYYYMMDD_HHMMSS-<id>` is created. */
  readonly dir: string;
  /** Run id (8 lowercase base-36 characters by default, as W&B generates them). */
  readonly id: string | null;
  /**
   * Continue the run `id` whose folder is in `dir` (a job resumed from its checkpoint): "allow" reopens it when
   * it is there and starts it otherwise, "must" fails without it, "never" (default) always starts a new run.
   * A reopened run keeps its history; rows the resumed job logs again (steps ≤ the last recorded one) are skipped.
   */
  readonly resume: "never" | "allow" | "must";
  /** API base URL; null: $WANDB_BASE_URL or https://api.wandb.ai. */
  readonly baseUrl: string | null;
  /** API key; null: $WANDB_API_KEY, then ~/.netrc for the API host. */
  readonly apiKey: string | null;
  /** In online mode without an API key: throw ("error") or continue offline ("offline"). */
  readonly onMissingApiKey: "error" | "offline";
  /** fsync history after each record (survives power loss, not only a crash of the process). */
  readonly fsync: boolean;
  /** Do not print the folder / URL line at start. */
  readonly silent: boolean;
  /** Extra package versions to record in the metadata (e.g. the trainer's). */
  readonly packageVersions: Readonly<Record<string, string>>;
  readonly stream: StreamOptions;
}

export const DEFAULT_RETRY: RetryOptions = Object.freeze({
  initialDelayMs: 1000,
  maxDelayMs: 60_000,
  multiplier: 2,
  jitter: 0.25,
  requestTimeoutMs: 30_000,
});

export const DEFAULT_STREAM: StreamOptions = Object.freeze({
  batchIntervalMs: 2000,
  maxLinesPerRequest: 5000,
  maxBytesPerRequest: 10 * 1024 * 1024,
  heartbeatMs: 30_000,
  finishTimeoutMs: 120_000,
  retry: DEFAULT_RETRY,
});

export const DEFAULT_INIT: Omit<InitOptions, "project" | "mode"> = Object.freeze({
  entity: null,
  name: null,
  group: null,
  jobType: null,
  tags: Object.freeze([]) as readonly string[],
  notes: null,
  config: Object.freeze({}),
  dir: "wandb-runs",
  id: null,
  resume: "never" as const,
  baseUrl: null,
  apiKey: null,
  onMissingApiKey: "error" as const,
  fsync: false,
  silent: false,
  packageVersions: Object.freeze({}),
  stream: DEFAULT_STREAM,
});

/** Validate and complete init options. Rejects unknown keys with the nearest valid one; never mutates input. */
export function resolveInitOptions(input: unknown, env: NodeJS.ProcessEnv = process.env): InitOptions {
  const raw = asRecord(input, "init options");
  checkKeys(raw, [...Object.keys(DEFAULT_INIT), "project", "mode"], "init options");
  const project = raw["project"] ?? env["WANDB_PROJECT"];
  if (typeof project !== "string" || project.length === 0) {
    throw new WandbError("INVALID_OPTION", "a project name is required", {
      field: "project",
      expected: "a non-empty string (or $WANDB_PROJECT)",
      got: describe(project),
    });
  }
  const mode = raw["mode"] ?? modeFromEnv(env["WANDB_MODE"]);
  if (mode !== "online" && mode !== "offline" && mode !== "disabled") {
    throw new WandbError("INVALID_OPTION", "unknown mode", {
      field: "mode",
      expected: '"online" | "offline" | "disabled"',
      got: JSON.stringify(mode),
    });
  }
  const out: Record<string, unknown> = { ...DEFAULT_INIT, project, mode };
  for (const key of ["entity", "name", "group", "jobType", "notes", "id", "baseUrl", "apiKey"] as const) {
    if (raw[key] !== undefined && raw[key] !== null) out[key] = expectString(raw[key], key);
  }
  if (raw["dir"] !== undefined) out["dir"] = expectString(raw["dir"], "dir");
  if (raw["tags"] !== undefined) {
    const tags = raw["tags"];
    if (!Array.isArray(tags) || !tags.every((t) => typeof t === "string")) {
      throw new WandbError("INVALID_OPTION", "tags must be strings", { field: "tags", got: describe(tags) });
    }
    out["tags"] = Object.freeze([...(tags as string[])]);
  }
  if (raw["config"] !== undefined) out["config"] = asRecord(raw["config"], "config");
  if (raw["packageVersions"] !== undefined)
    out["packageVersions"] = asRecord(raw["packageVersions"], "packageVersions");
  for (const key of ["fsync", "silent"] as const) {
    if (raw[key] !== undefined) {
      if (typeof raw[key] !== "boolean")
        throw new WandbError("INVALID_OPTION", `${key} must be a boolean`, { field: key, got: describe(raw[key]) });
      out[key] = raw[key];
    }
  }
  if (raw["resume"] !== undefined) {
    if (raw["resume"] !== "never" && raw["resume"] !== "allow" && raw["resume"] !== "must") {
      throw new WandbError("INVALID_OPTION", "unknown resume", {
        field: "resume",
        expected: '"never" | "allow" | "must"',
        got: JSON.stringify(raw["resume"]),
      });
    }
    if (raw["resume"] !== "never" && typeof out["id"] !== "string") {
      throw new WandbError("INVALID_OPTION", "resume needs the id of the run to continue", {
        field: "id",
        fix: "pass the id the first run was started with (keep it beside your checkpoints)",
      });
    }
    out["resume"] = raw["resume"];
  }
  if (raw["onMissingApiKey"] !== undefined) {
    if (raw["onMissingApiKey"] !== "error" && raw["onMissingApiKey"] !== "offline") {
      throw new WandbError("INVALID_OPTION", "unknown onMissingApiKey", {
        field: "onMissingApiKey",
        expected: '"error" | "offline"',
        got: JSON.stringify(raw["onMissingApiKey"]),
      });
    }
    out["onMissingApiKey"] = raw["onMissingApiKey"];
  }
  if (raw["id"] !== undefined && raw["id"] !== null && !/^[A-Za-z0-9_-]{1,64}$/.test(raw["id"] as string)) {
    throw new WandbError("INVALID_OPTION", "run id may hold only letters, digits, '-' and '_'", {
      field: "id",
      got: JSON.stringify(raw["id"]),
    });
  }
  out["stream"] = resolveStreamOptions(raw["stream"] ?? {});
  return Object.freeze(out) as unknown as InitOptions;
}

/** Validate stream options (partial input is completed from the defaults). */
export function resolveStreamOptions(input: unknown): StreamOptions {
  const raw = asRecord(input, "stream options");
  checkKeys(raw, Object.keys(DEFAULT_STREAM), "stream");
  const out: Record<string, unknown> = { ...DEFAULT_STREAM };
  for (const key of [
    "batchIntervalMs",
    "maxLinesPerRequest",
    "maxBytesPerRequest",
    "heartbeatMs",
    "finishTimeoutMs",
  ] as const) {
    if (raw[key] !== undefined) out[key] = expectNonNegative(raw[key], `stream.${key}`);
  }
  const retryRaw = asRecord(raw["retry"] ?? {}, "stream.retry");
  checkKeys(retryRaw, Object.keys(DEFAULT_RETRY), "stream.retry");
  const retry: Record<string, unknown> = { ...DEFAULT_RETRY };
  for (const key of Object.keys(DEFAULT_RETRY)) {
    if (retryRaw[key] !== undefined) retry[key] = expectNonNegative(retryRaw[key], `stream.retry.${key}`);
  }
  out["retry"] = Object.freeze(retry);
  return Object.freeze(out) as unknown as StreamOptions;
}

function modeFromEnv(value: string | undefined): string {
  if (value === undefined || value === "" || value === "run") return "online";
  return value === "dryrun" ? "offline" : value;
}

function asRecord(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new WandbError("INVALID_OPTION", `${what} must be an object`, { got: describe(value) });
  }
  return value as Record<string, unknown>;
}

function expectString(value: unknown, field: string): string {
  if (typeof value !== "string")
    throw new WandbError("INVALID_OPTION", `${field} must be a string`, { field, got: describe(value) });
  return value;
}

function expectNonNegative(value: unknown, field: string): number {
  if (typeof value !== "number" || !(value >= 0)) {
    throw new WandbError("INVALID_OPTION", `${field} must be a number ≥ 0`, { field, got: String(value) });
  }
  return value;
}

function checkKeys(raw: Record<string, unknown>, valid: readonly string[], what: string): void {
  for (const key of Object.keys(raw)) {
    if (!valid.includes(key)) {
      const suggestion = nearest(key, valid);
      throw new WandbError("UNKNOWN_OPTION", `unknown key in ${what}`, {
        field: key,
        expected: valid.join(", "),
        got: key,
        ...(suggestion === undefined ? {} : { suggestion, fix: `did you mean "${suggestion}"?` }),
      });
    }
  }
}
