import { isRetryable, WandbError } from "./errors.ts";
import type { StreamOptions } from "./options.ts";
import { backoffDelayMs, Waiter } from "./retry.ts";
import type { RunUploader } from "./uploader.ts";

/** How a drain ended. */
export interface DrainResult {
  /** The run is closed on the server. */
  readonly completed: boolean;
  /** Local history lines the server has not acknowledged (they stay in the folder for `sync`). */
  readonly pendingLines: number;
  /** Why streaming stopped for good, if it did (bad API key, unknown project, ...). */
  readonly fatal: WandbError | null;
}

/**
 * Streams a run folder in the background of the same process. `log()` never waits for it: records are in
 * the folder before the streamer sees them. Between sends it sleeps `batchIntervalMs` (so records batch up)
 * on an unref'd timer; on a network error it backs off exponentially with jitter and retries forever,
 * resuming from the last acknowledged offset. A fatal error (4xx) stops streaming; the folder keeps the data.
 */
export class BackgroundStreamer {
  private finishing = false;
  private stopped = false;
  private exitCode: number | null = null;
  private readonly waiter = new Waiter();
  private loopDone: Promise<void> | null = null;
  private lastPending = 0;
  private completed = false;
  fatal: WandbError | null = null;
  /** Consecutive failed passes (0 while healthy). */
  failures = 0;

  constructor(
    readonly uploader: RunUploader,
    private readonly stream: StreamOptions,
    private readonly say: (message: string) => void,
  ) {}

  start(): void {
    this.loopDone ??= this.loop();
  }

  /** Send everything written so far and close the run on the server, waiting at most `timeoutMs`. */
  async drain(exitCode: number, timeoutMs: number): Promise<DrainResult> {
    this.finishing = true;
    this.exitCode = exitCode;
    this.start();
    this.waiter.wake();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([this.loopDone, timedOut]);
    clearTimeout(timer);
    this.stopped = true;
    this.waiter.wake();
    if (!this.completed) {
      this.lastPending = this.uploader.pendingCount();
      const why = this.fatal !== null ? "streaming stopped" : `not done after ${timeoutMs} ms`;
      this.say(
        `${why}: ${this.lastPending} record(s) not yet on the server and the run is not closed; the folder keeps them — \`pnpm difflens-wandb sync ${this.uploader.folder}\``,
      );
    }
    return { completed: this.completed, pendingLines: this.lastPending, fatal: this.fatal };
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      let result;
      try {
        result = await this.uploader.pass({ finishing: this.finishing, exitCode: this.exitCode });
      } catch (error) {
        if (!isRetryable(error)) {
          this.fatal = error instanceof WandbError ? error : new WandbError("HTTP_FATAL", String(error));
          this.say(
            `streaming stopped: ${this.fatal.message}. The run folder keeps every record; upload it later with \`pnpm difflens-wandb sync ${this.uploader.folder}\``,
          );
          try {
            this.uploader.recordError(this.fatal);
          } catch {
            // the folder may be gone; the message above already told the user
          }
          return;
        }
        this.failures++;
        if (this.failures === 1 || this.failures % 10 === 0) {
          this.say(`W&B unreachable (${(error as Error).message}); retrying with backoff, records stay in the folder`);
        }
        await this.waiter.sleep(backoffDelayMs(this.failures, this.stream.retry), this.finishing);
        continue;
      }
      if (this.failures > 0)
        this.say(
          `W&B reachable again after ${this.failures} failed attempt(s); resuming at line ${this.uploader.acknowledgedLines}`,
        );
      this.failures = 0;
      this.lastPending = result.pendingLines;
      if (result.completed) {
        this.completed = true;
        return;
      }
      // A full batch means more is waiting: send it now rather than after the interval.
      if (result.pendingLines > 0 && (this.finishing || result.sentLines >= this.stream.maxLinesPerRequest)) continue;
      await this.waiter.sleep(
        this.finishing ? Math.min(50, this.stream.batchIntervalMs) : this.stream.batchIntervalMs,
        this.finishing,
      );
    }
  }
}
