/**
 * One progress bar for every difflens job that counts toward a known total (training tokens, downloaded bytes):
 * `label ██████░░░░  42% 1.2M/3.0M tok 15.3k tok/s ETA 01:58 <extra>`. On a TTY the line is redrawn in place at most
 * every `minIntervalMs`; elsewhere (CI, pipes, log files) a plain line is printed every `plainIntervalMs`.
 */

/** Where the bar is drawn: process.stderr by default; anything with `write` (and `isTTY`) in tests. */
export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export interface ProgressBarOptions {
  /** Printed first, e.g. a stage name or a file name. */
  readonly label: string;
  /** The count at which the job is done. */
  readonly total: number;
  /** Unit after the counts and in the rate, e.g. "tok" or "B" (default none). */
  readonly unit?: string;
  /** Count already done when the bar starts (a resumed run): not counted in the rate. */
  readonly start?: number;
  /** How counts are written (default `compactNumber`: 1.2k, 3.40M). */
  readonly formatCount?: (count: number) => string;
  readonly stream?: ProgressStream;
  /** TTY redraw interval (default 200 ms). */
  readonly minIntervalMs?: number;
  /** Non-TTY line interval (default 10 s). */
  readonly plainIntervalMs?: number;
}

const BAR_WIDTH = 24;

export class ProgressBar {
  private readonly started = performance.now();
  private lastDraw = 0; // performance.now() of the last draw
  private readonly stream: ProgressStream;
  private readonly tty: boolean;

  constructor(private readonly options: ProgressBarOptions) {
    this.stream = options.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY);
  }

  /** Redraws when the interval has passed (or `force`); `extra` is appended, e.g. `loss 0.12 L0 31.8`. */
  update(count: number, extra = "", force = false): void {
    const now = performance.now();
    const interval = this.tty ? (this.options.minIntervalMs ?? 200) : (this.options.plainIntervalMs ?? 10_000);
    if (!force && now - this.lastDraw < interval) return;
    this.lastDraw = now;
    const line = this.line(count, extra, now);
    this.stream.write(this.tty ? `\r${line}\x1b[K` : `${line}\n`);
  }

  /** The final line, always printed; ends the bar. */
  done(count: number, extra = ""): void {
    const line = this.line(count, extra, performance.now());
    this.stream.write(this.tty ? `\r${line}\x1b[K\n` : `${line}\n`);
  }

  /** The bar's text at `count` (no control characters). */
  line(count: number, extra = "", now = performance.now()): string {
    const { label, total, unit } = this.options;
    const format = this.options.formatCount ?? compactNumber;
    const elapsedS = (now - this.started) / 1000;
    const rate = elapsedS > 0 ? (count - (this.options.start ?? 0)) / elapsedS : 0;
    const fraction = total > 0 ? Math.min(1, count / total) : 1;
    const etaS = rate > 0 ? (total - count) / rate : NaN;
    const filled = Math.round(fraction * BAR_WIDTH);
    const bar = `${"█".repeat(filled)}${"░".repeat(BAR_WIDTH - filled)}`;
    const units = unit ? ` ${unit}` : "";
    const text =
      `${label} ${bar} ${(fraction * 100).toFixed(0).padStart(3)}% ${format(count)}/${format(total)}${units} ` +
      `${format(rate)}${units}/s ETA ${clock(etaS)}`;
    return extra ? `${text} ${extra}` : text;
  }
}

/** 950, 1.2k, 3.40M, 1.05G ("?" for a non-finite count). */
export function compactNumber(n: number): string {
  if (!Number.isFinite(n)) return "?";
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(0);
}

/** mm:ss, or h:mm:ss from an hour; "--:--" when unknown. */
export function clock(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--:--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}
