import { API_KEY_HELP, findApiKey, runUrl } from "./api-key.ts";
import { isRetryable, WandbError } from "./errors.ts";
import { readExitRecord, readManifest } from "./folder/run-folder.ts";
import { resolveStreamOptions } from "./options.ts";
import { backoffDelayMs, Waiter } from "./retry.ts";
import { RunUploader } from "./uploader.ts";

export interface SyncOptions {
  /** API base URL; default $WANDB_BASE_URL or https://api.wandb.ai. */
  readonly baseUrl?: string;
  /** Default $WANDB_API_KEY, then ~/.netrc. */
  readonly apiKey?: string;
  /** Override the entity recorded in the folder. */
  readonly entity?: string;
  /** Close a run that has no exit record (it crashed) with this exit code. */
  readonly exitCode?: number;
  /** Give up retrying after this long (ms). */
  readonly timeoutMs?: number;
  /** Stream options (batch sizes, retry policy); partial. */
  readonly stream?: unknown;
  readonly say?: (message: string) => void;
}

export interface SyncReport {
  readonly folder: string;
  readonly runId: string;
  readonly url: string | null;
  /** Complete lines in history.jsonl (a torn last line of a crashed run is not counted). */
  readonly localLines: number;
  /** Lines the server has acknowledged, in total. */
  readonly acknowledgedLines: number;
  /** Lines sent by this sync (0 when an earlier sync or the live run already sent them). */
  readonly sentLines: number;
  readonly filesUploaded: number;
  /** The run is closed on the server. */
  readonly completed: boolean;
  /** No exit record: the run crashed or is still running. */
  readonly unfinished: boolean;
}

/**
 * Upload a run folder (offline, interrupted or crashed) to W&B. Idempotent: history line i goes to
 * offset i and the acknowledged offset is kept in the folder (and re-checked with the server), so a
 * second sync sends no history. Retries network errors with backoff until `timeoutMs`.
 */
export async function syncRunFolder(folder: string, options: SyncOptions = {}): Promise<SyncReport> {
  const manifest = readManifest(folder);
  const baseUrl = (options.baseUrl ?? process.env["WANDB_BASE_URL"] ?? "https://api.wandb.ai").replace(/\/+$/, "");
  const apiKey = findApiKey(options.apiKey ?? null, baseUrl);
  if (apiKey === null) throw new WandbError("API_KEY_MISSING", `no W&B API key for ${baseUrl}`, { fix: API_KEY_HELP });
  const stream = resolveStreamOptions(options.stream ?? {});
  const uploader = new RunUploader(folder, { baseUrl, apiKey, entity: options.entity ?? null }, stream);
  const exitRecord = readExitRecord(folder);
  const exitCode = exitRecord?.exitCode ?? options.exitCode ?? null;
  const deadline = Date.now() + (options.timeoutMs ?? 10 * 60_000);
  const waiter = new Waiter();
  let failures = 0;
  let completed = false;
  for (;;) {
    try {
      const result = await uploader.pass({ finishing: exitCode !== null, exitCode });
      failures = 0;
      if (result.completed) {
        completed = true;
        break;
      }
      if (exitCode === null && result.upToDate) break;
    } catch (error) {
      if (!isRetryable(error)) {
        uploader.recordError(error as Error);
        throw error;
      }
      failures++;
      const delay = backoffDelayMs(failures, stream.retry);
      if (Date.now() + delay > deadline) {
        throw new WandbError(
          "HTTP_RETRYABLE",
          `gave up after ${failures} failed attempts: ${(error as Error).message}`,
          {
            file: folder,
            fix: "run sync again later; it resumes where it stopped",
          },
        );
      }
      options.say?.(`retrying in ${Math.round(delay)} ms: ${(error as Error).message}`);
      await waiter.sleep(delay, true);
    }
  }
  const entity = uploader.knownEntity();
  return {
    folder,
    runId: manifest.id,
    url: entity === null ? null : runUrl(baseUrl, entity, manifest.project, manifest.id),
    localLines: uploader.localLines,
    acknowledgedLines: uploader.acknowledgedLines,
    sentLines: uploader.totals.historyLinesSent,
    filesUploaded: uploader.totals.filesUploaded,
    completed,
    unfinished: exitRecord === null,
  };
}
