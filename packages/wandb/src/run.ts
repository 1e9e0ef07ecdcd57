import { closeSync, copyFileSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { tempPathBeside, writeFileAtomic } from "@difflens/common";
import { WandbError } from "./errors.ts";
import { FILES, type RunManifest } from "./folder/layout.ts";
import type { RunLogger } from "./logger.ts";
import { type MetricValue, validateMetrics } from "./metrics.ts";
import type { StreamOptions } from "./options.ts";
import type { BackgroundStreamer, DrainResult } from "./streamer.ts";
import { stringifyWandbJson } from "./wandb-json.ts";

/** What finish() reports. */
export interface FinishResult {
  /** Records written to the folder. */
  readonly records: number;
  /** Online: the run is closed on the server. Offline/disabled: false. */
  readonly uploaded: boolean;
  /** Online: records still waiting for the server (upload them with `sync`). */
  readonly pendingRecords: number;
  readonly folder: string | null;
}

/**
 * One run. Every record goes to the run folder first (one write per record, so a crash loses at most the
 * record being written); in online mode a background streamer uploads the folder. Methods never wait on
 * the network except finish().
 */
export class WandbRun implements RunLogger {
  private historyFd: number | null;
  private lastStep = -1;
  /** A resumed run skips rows it already holds: the job replays the steps since its checkpoint. */
  private readonly replayedThrough: number;
  private records = 0;
  private readonly startedAt: number;
  private finished = false;
  private readonly explicitSummary: Record<string, MetricValue> = {};
  private currentConfig: Record<string, unknown>;
  private entity: string | null;

  constructor(
    readonly manifest: RunManifest | null,
    /** The run folder; null in disabled mode. */
    readonly folder: string | null,
    config: Readonly<Record<string, unknown>>,
    private readonly streamer: BackgroundStreamer | null,
    private readonly stream: StreamOptions,
    private readonly fsync: boolean,
    private readonly urlOf: ((entity: string) => string) | null,
    /** A reopened run: its last recorded step and runtime. */
    resumed: { readonly lastStep: number; readonly runtimeS: number } | null = null,
  ) {
    this.lastStep = resumed?.lastStep ?? -1;
    this.replayedThrough = resumed?.lastStep ?? -1;
    this.startedAt = Date.now() - (resumed?.runtimeS ?? 0) * 1000;
    this.currentConfig = { ...config };
    this.entity = manifest?.entity ?? null;
    this.historyFd = folder === null ? null : openSync(join(folder, FILES.history), "a");
    streamer?.uploader.onEntity((entity) => {
      this.entity = entity;
    });
  }

  get id(): string | null {
    return this.manifest?.id ?? null;
  }

  get mode(): "online" | "offline" | "disabled" {
    return this.manifest === null ? "disabled" : this.streamer === null ? "offline" : "online";
  }

  /** Browser URL, once the entity is known (online only). */
  get url(): string | null {
    return this.urlOf !== null && this.entity !== null ? this.urlOf(this.entity) : null;
  }

  get config(): Readonly<Record<string, unknown>> {
    return this.currentConfig;
  }

  /** Last step written (−1 before the first record). */
  get step(): number {
    return this.lastStep;
  }

  /**
   * Append one history row. `step` (or `{ step }`) must exceed the previous step; omitted, it is the
   * previous step + 1. Non-finite numbers are recorded as NaN/Infinity the way W&B does. In a resumed run, a
   * row for a step it already holds (replayed since the checkpoint) is skipped.
   */
  log(metrics: Readonly<Record<string, MetricValue>>, step?: number | { readonly step?: number }): void {
    this.assertOpen("log");
    validateMetrics(metrics);
    const requested = typeof step === "number" ? step : step?.step;
    if (requested !== undefined && Number.isSafeInteger(requested) && requested <= this.replayedThrough) return;
    const nextStep = requested ?? this.lastStep + 1;
    if (!Number.isSafeInteger(nextStep) || nextStep <= this.lastStep) {
      throw new WandbError("STEP_NOT_INCREASING", "each log call writes one row; steps must increase", {
        field: "step",
        expected: `an integer > ${this.lastStep}`,
        got: String(nextStep),
        fix: "merge the metrics of one step into one log call, or omit step",
      });
    }
    const now = Date.now();
    const row = { ...metrics, _step: nextStep, _runtime: (now - this.startedAt) / 1000, _timestamp: now / 1000 };
    this.lastStep = nextStep;
    this.records++;
    if (this.historyFd === null) return;
    writeSync(this.historyFd, `${stringifyWandbJson(row)}\n`);
    if (this.fsync) fsyncSync(this.historyFd);
  }

  /** Set summary values (shown as the run's final numbers); later calls override earlier keys. */
  summary(values: Readonly<Record<string, MetricValue>>): void {
    this.assertOpen("summary");
    validateMetrics(values, "summary");
    Object.assign(this.explicitSummary, values);
    if (this.folder !== null)
      writeFileAtomic(join(this.folder, FILES.summary), `${stringifyWandbJson(this.explicitSummary)}\n`);
  }

  /** Add or change config keys (e.g. values known only after setup); uploaded with the next UpsertBucket. */
  updateConfig(values: Readonly<Record<string, unknown>>): void {
    this.assertOpen("updateConfig");
    const next = { ...this.currentConfig, ...values };
    const text = serialiseConfig(next);
    this.currentConfig = next;
    if (this.folder !== null) writeFileAtomic(join(this.folder, FILES.config), `${text}\n`);
  }

  /**
   * Save a file with the run (a figure, a results JSON): copied into the folder's files/ now, uploaded
   * by the streamer or by `sync`. `source` is a path on disk or the bytes/text themselves.
   */
  saveFile(name: string, source: { readonly path: string } | string | Uint8Array): void {
    this.assertOpen("saveFile");
    checkFileName(name);
    if (this.folder === null) return;
    const target = join(this.folder, FILES.filesDir, ...name.split("/"));
    mkdirSync(dirname(target), { recursive: true });
    if (typeof source === "object" && "path" in source) {
      // Copied, not read whole: a saved file may be large. Same temp-beside-then-rename as writeFileAtomic.
      const temp = tempPathBeside(target);
      copyFileSync(source.path, temp);
      renameSync(temp, target);
    } else {
      writeFileAtomic(target, source);
    }
  }

  /** Tell W&B the job is about to be preempted (e.g. on SIGTERM from a scheduler). */
  markPreempting(): void {
    this.streamer?.uploader.markPreempting();
  }

  /** Close the run: exit record, then (online) drain the upload for at most stream.finishTimeoutMs. */
  async finish(options: { readonly exitCode?: number } = {}): Promise<FinishResult> {
    this.assertOpen("finish");
    this.finished = true;
    const exitCode = options.exitCode ?? 0;
    if (this.historyFd !== null) {
      closeSync(this.historyFd);
      this.historyFd = null;
    }
    if (this.folder === null) return { records: this.records, uploaded: false, pendingRecords: 0, folder: null };
    writeFileAtomic(
      join(this.folder, FILES.exit),
      `${JSON.stringify({ exitCode, finishedAt: new Date().toISOString() })}\n`,
    );
    if (this.streamer === null)
      return { records: this.records, uploaded: false, pendingRecords: 0, folder: this.folder };
    const drained: DrainResult = await this.streamer.drain(exitCode, this.stream.finishTimeoutMs);
    return {
      records: this.records,
      uploaded: drained.completed,
      pendingRecords: drained.pendingLines,
      folder: this.folder,
    };
  }

  private assertOpen(what: string): void {
    if (this.finished)
      throw new WandbError("RUN_FINISHED", `${what}() after finish()`, { fix: "start a new run with init()" });
  }
}

/** Serialise config or say which key cannot be. */
export function serialiseConfig(config: Readonly<Record<string, unknown>>): string {
  try {
    return stringifyWandbJson(config, "config");
  } catch (error) {
    const message = (error as Error).message;
    throw new WandbError("CONFIG_NOT_SERIALISABLE", `config cannot be written as JSON: ${message}`, {
      field: message.split(":")[0],
      expected: "plain data: numbers, strings, booleans, null, arrays and plain objects",
      fix: "convert the value (e.g. String(date), Number(bigint), Array.from(typedArray)) or leave it out",
    });
  }
}

function checkFileName(name: string): void {
  const parts = name.split("/");
  if (
    name.length === 0 ||
    name.startsWith("/") ||
    parts.some((p) => p === "" || p === "." || p === ".." || p.startsWith(".")) ||
    name.startsWith("wandb-") ||
    name.includes("\\") ||
    name.includes(".tmp-")
  ) {
    throw new WandbError("BAD_FILE_NAME", "file names are relative paths inside the run", {
      field: "name",
      expected: "e.g. figures/loss.png (no '..', no leading '/', no dotfiles, no 'wandb-' prefix: W&B reserves it)",
      got: JSON.stringify(name),
    });
  }
}
