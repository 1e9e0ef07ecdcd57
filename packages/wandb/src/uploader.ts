import { readFileSync, statSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { WandbError } from "./errors.ts";
import { FILES, type RunManifest } from "./folder/layout.ts";
import {
  listRunFiles,
  parseHistoryLine,
  readExitRecord,
  readHistoryFrom,
  readJson,
  readManifest,
} from "./folder/run-folder.ts";
import { loadTargetState, saveTargetState, type TargetState } from "./folder/sync-state.ts";
import type { StreamOptions } from "./options.ts";
import { type FileStreamPayload, type UpsertBucketVariables, WandbApi } from "./protocol/api.ts";
import { stringifyWandbJson } from "./wandb-json.ts";

export const HISTORY_FILE = "wandb-history.jsonl";
export const SUMMARY_FILE = "wandb-summary.json";
export const METADATA_FILE = "wandb-metadata.json";

/** What one pass achieved. */
export interface PassResult {
  /** History lines acknowledged in this pass. */
  readonly sentLines: number;
  /** Complete local lines not yet acknowledged. */
  readonly pendingLines: number;
  /** Everything local (history, summary, config, files) is acknowledged; only `complete` may remain. */
  readonly upToDate: boolean;
  /** The run is closed on the server (exit code sent and acknowledged). */
  readonly completed: boolean;
}

export interface UploaderTarget {
  readonly baseUrl: string;
  readonly apiKey: string;
  /** Overrides the run's entity (and the server's default entity). */
  readonly entity: string | null;
}

/**
 * Replays a run folder to one W&B server, one bounded step per `pass()`. History line i of history.jsonl
 * is always sent at file_stream offset i, and the acknowledged offset is stored in the folder after every
 * acknowledged request, so a retry, a restart or a second sync resends nothing the server already holds.
 * Network errors propagate (the caller owns the retry policy); nothing here loses local data.
 */
export class RunUploader {
  readonly manifest: RunManifest;
  private readonly api: WandbApi;
  private state: TargetState;
  private nextByte = 0;
  private linesRead = 0;
  /** Unacknowledged lines, starting at line index `state.historyAcked`. */
  private pending: string[] = [];
  private readonly foldedSummary: Record<string, unknown> = {};
  private resumeChecked = false;
  private lastSentAt = Date.now();
  private preempting = false;
  private readonly entityListeners: ((entity: string) => void)[] = [];
  /** Totals since construction, for reports and tests. */
  readonly totals = { historyLinesSent: 0, fileStreamRequests: 0, filesUploaded: 0 };

  constructor(
    readonly folder: string,
    private readonly target: UploaderTarget,
    private readonly stream: StreamOptions,
  ) {
    this.manifest = readManifest(folder);
    this.api = new WandbApi({
      baseUrl: target.baseUrl,
      apiKey: target.apiKey,
      requestTimeoutMs: stream.retry.requestTimeoutMs,
    });
    this.state = loadTargetState(folder, target.baseUrl);
  }

  /** Called once the entity (and so the run URL) is known. */
  onEntity(listener: (entity: string) => void): void {
    this.entityListeners.push(listener);
    const known = this.knownEntity();
    if (known !== null) listener(known);
  }

  knownEntity(): string | null {
    return this.target.entity ?? this.manifest.entity ?? this.state.entity;
  }

  /** Tell W&B the job is about to be preempted (sent with the next request). */
  markPreempting(): void {
    this.preempting = true;
  }

  /** Complete lines read from history.jsonl so far. */
  get localLines(): number {
    return this.linesRead;
  }

  /** Local lines not yet acknowledged (reads what was appended since the last pass). */
  pendingCount(): number {
    try {
      this.readNewLines();
    } catch {
      // a damaged line is reported by pass(); here only the count is wanted
    }
    return this.pending.length;
  }

  get acknowledgedLines(): number {
    return this.state.historyAcked;
  }

  /** Record a fatal error in the folder, so `sync` can report why streaming stopped. */
  recordError(error: Error): void {
    this.state.lastError = error.message;
    saveTargetState(this.folder, this.target.baseUrl, this.state);
  }

  /** One bounded step: at most one history request, plus upserts, summary, files and `complete` as due. */
  async pass(options: { readonly finishing: boolean; readonly exitCode?: number | null }): Promise<PassResult> {
    this.readNewLines();
    if (this.state.completeSent) return { sentLines: 0, pendingLines: 0, upToDate: true, completed: true };
    const entity = await this.ensureEntity();
    const config = readFileSync(join(this.folder, FILES.config), "utf8");
    if (!this.state.upserted || this.state.configDigest !== config) {
      await this.api.upsertBucket(this.upsertVariables(entity));
      this.state.upserted = true;
      this.state.configDigest = config;
      this.state.lastError = null;
      this.save();
    }
    if (!this.resumeChecked) {
      await this.adoptServerOffset(entity);
      this.resumeChecked = true;
    }

    let sentLines = 0;
    const summary = this.effectiveSummary();
    const summaryDue = summary !== this.state.summaryDigest;
    if (this.pending.length > 0 || summaryDue) {
      const batch = this.takeBatch();
      const payload: FileStreamPayload = { files: {} };
      if (batch.length > 0) payload.files![HISTORY_FILE] = { offset: this.state.historyAcked, content: batch };
      if (summaryDue) payload.files![SUMMARY_FILE] = { offset: 0, content: [summary] };
      await this.send(entity, payload);
      this.pending.splice(0, batch.length);
      this.state.historyAcked += batch.length;
      this.state.summaryDigest = summary;
      this.totals.historyLinesSent += batch.length;
      sentLines = batch.length;
      this.save();
    }

    if (this.pending.length === 0) await this.uploadFiles(entity);

    const upToDate =
      this.pending.length === 0 && this.effectiveSummary() === this.state.summaryDigest && this.filesDue().length === 0;
    const exitCode = options.exitCode ?? readExitRecord(this.folder)?.exitCode ?? null;
    if (options.finishing && upToDate && exitCode !== null) {
      await this.send(entity, { complete: true, exitcode: exitCode });
      this.state.completeSent = true;
      this.save();
      return { sentLines, pendingLines: 0, upToDate, completed: true };
    }
    if (this.preempting) {
      await this.send(entity, { preempting: true });
      this.preempting = false;
    } else if (!options.finishing && sentLines === 0 && Date.now() - this.lastSentAt > this.stream.heartbeatMs) {
      await this.send(entity, {});
    }
    return { sentLines, pendingLines: this.pending.length, upToDate, completed: false };
  }

  private readNewLines(): void {
    const chunk = readHistoryFrom(this.folder, this.nextByte);
    for (const line of chunk.lines) {
      const row = parseHistoryLine(line, this.linesRead + 1, this.folder);
      for (const [key, value] of Object.entries(row)) this.foldedSummary[key] = value;
      if (this.linesRead >= this.state.historyAcked) this.pending.push(line);
      this.linesRead++;
    }
    this.nextByte = chunk.nextByte;
  }

  private async ensureEntity(): Promise<string> {
    let entity = this.knownEntity();
    if (entity === null) {
      const viewer = await this.api.viewer();
      entity = viewer.viewer?.entity ?? null;
      if (entity === null || entity === "") {
        throw new WandbError("HTTP_FATAL", "the server named no default entity for this API key", {
          field: "entity",
          fix: "pass entity to init() or --entity to sync",
        });
      }
      this.state.entity = entity;
      this.save();
      for (const listener of this.entityListeners) listener(entity);
    } else if (this.state.entity !== entity) {
      this.state.entity = entity;
    }
    return entity;
  }

  /** After a lost sync-state (or a crash between the server's ack and our write), ask the server. */
  private async adoptServerOffset(entity: string): Promise<void> {
    const serverLines = await this.api.historyLineCount(entity, this.manifest.project, this.manifest.id);
    if (serverLines <= this.state.historyAcked) return;
    const adopt = Math.min(serverLines, this.linesRead);
    this.pending.splice(0, adopt - this.state.historyAcked);
    this.state.historyAcked = adopt;
    this.save();
  }

  private takeBatch(): string[] {
    const batch: string[] = [];
    let bytes = 0;
    for (const line of this.pending) {
      if (batch.length >= this.stream.maxLinesPerRequest) break;
      if (batch.length > 0 && bytes + line.length > this.stream.maxBytesPerRequest) break;
      batch.push(line);
      bytes += line.length;
    }
    return batch;
  }

  private effectiveSummary(): string {
    const explicit = readJson(join(this.folder, FILES.summary));
    return stringifyWandbJson({ ...this.foldedSummary, ...(explicit as Record<string, unknown>) });
  }

  private filesDue(): { name: string; path: string; digest: string }[] {
    const candidates = [
      { name: METADATA_FILE, path: join(this.folder, FILES.metadata) },
      ...listRunFiles(this.folder).map((f) => ({ name: f.name, path: join(this.folder, FILES.filesDir, f.name) })),
    ];
    const due: { name: string; path: string; digest: string }[] = [];
    for (const candidate of candidates) {
      const digest = fileDigest(candidate.path);
      if (this.state.uploaded[candidate.name] !== digest) due.push({ ...candidate, digest });
    }
    return due;
  }

  private async uploadFiles(entity: string): Promise<void> {
    const due = this.filesDue();
    if (due.length === 0) return;
    const answer = await this.api.createRunFiles(
      entity,
      this.manifest.project,
      this.manifest.id,
      due.map((f) => f.name),
    );
    const result = answer.createRunFiles;
    if (result === null || result.runID === null) {
      throw new WandbError("GRAPHQL_ERROR", "CreateRunFiles returned no run", { fix: "check entity/project/run id" });
    }
    const urls = new Map(result.files.map((f) => [f.name, f.uploadUrl]));
    const done: string[] = [];
    for (const file of due) {
      const url = urls.get(file.name);
      if (url === undefined)
        throw new WandbError("GRAPHQL_ERROR", `CreateRunFiles gave no upload URL for ${file.name}`);
      await this.api.putSigned(url, result.uploadHeaders ?? [], readFileSync(file.path));
      this.state.uploaded[file.name] = file.digest;
      this.totals.filesUploaded++;
      done.push(file.name);
      this.save();
    }
    await this.send(entity, { uploaded: done });
  }

  private upsertVariables(entity: string): UpsertBucketVariables {
    const metadata = readJson(join(this.folder, FILES.metadata)) as Record<string, unknown>;
    const config = readJson(join(this.folder, FILES.config)) as Record<string, unknown>;
    // The Python client wraps each config value as {value, desc}; the web UI reads that shape.
    const wrapped: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(config)) wrapped[key] = { value, desc: null };
    const m = this.manifest;
    const git = metadata["git"] as { commit?: string | null; remote?: string | null } | undefined;
    return {
      name: m.id,
      project: m.project,
      entity,
      config: stringifyWandbJson(wrapped),
      host: typeof metadata["host"] === "string" ? metadata["host"] : hostname(),
      ...(m.name !== null ? { displayName: m.name } : {}),
      ...(m.group !== null ? { groupName: m.group } : {}),
      ...(m.jobType !== null ? { jobType: m.jobType } : {}),
      ...(m.notes !== null ? { notes: m.notes } : {}),
      ...(m.tags.length > 0 ? { tags: [...m.tags] } : {}),
      ...(typeof git?.commit === "string" ? { commit: git.commit } : {}),
      ...(typeof git?.remote === "string" ? { repo: git.remote } : {}),
      ...(typeof metadata["program"] === "string" ? { program: metadata["program"] } : {}),
    };
  }

  private async send(entity: string, payload: FileStreamPayload): Promise<void> {
    await this.api.fileStream(entity, this.manifest.project, this.manifest.id, payload);
    this.totals.fileStreamRequests++;
    this.lastSentAt = Date.now();
  }

  private save(): void {
    saveTargetState(this.folder, this.target.baseUrl, this.state);
  }
}

/** Size and modification time identify a file version; files are written whole (temp + rename). */
function fileDigest(path: string): string {
  const st = statSync(path);
  return `${st.size}:${st.mtimeMs}`;
}
