/**
 * A one-line progress bar on stderr: tokens, tokens/s, ETA, loss, L0, dead %. Redrawn at most every
 * `minIntervalMs`; on a non-TTY stderr (CI, pipes) it prints a plain line every `plainIntervalMs` instead.
 */
export interface ProgressState {
  readonly tokens: number;
  readonly loss: number;
  readonly l0: number;
  readonly deadFraction: number;
}

export class ProgressBar {
  private readonly started = performance.now();
  private lastDraw = 0;
  private readonly tty: boolean;

  constructor(
    private readonly label: string,
    private readonly totalTokens: number,
    private readonly opts: { stream?: NodeJS.WriteStream; minIntervalMs?: number; plainIntervalMs?: number; startTokens?: number } = {},
  ) {
    this.tty = Boolean((opts.stream ?? process.stderr).isTTY);
  }

  private get stream(): NodeJS.WriteStream {
    return this.opts.stream ?? process.stderr;
  }

  update(s: ProgressState, force = false): void {
    const now = performance.now();
    const interval = this.tty ? (this.opts.minIntervalMs ?? 200) : (this.opts.plainIntervalMs ?? 10_000);
    if (!force && now - this.lastDraw < interval) return;
    this.lastDraw = now;
    const line = this.format(s, now);
    if (this.tty) this.stream.write(`\r${line}\x1b[K`);
    else this.stream.write(`${line}\n`);
  }

  /** Final line (always printed), ending the bar. */
  done(s: ProgressState): void {
    const line = this.format(s, performance.now());
    this.stream.write(this.tty ? `\r${line}\x1b[K\n` : `${line}\n`);
  }

  format(s: ProgressState, now: number): string {
    const elapsed = (now - this.started) / 1000;
    const fresh = s.tokens - (this.opts.startTokens ?? 0);
    const rate = elapsed > 0 ? fresh / elapsed : 0;
    const frac = this.totalTokens > 0 ? Math.min(1, s.tokens / this.totalTokens) : 1;
    const eta = rate > 0 ? (this.totalTokens - s.tokens) / rate : NaN;
    const width = 24;
    const filled = Math.round(frac * width);
    const bar = `${"█".repeat(filled)}${"░".repeat(width - filled)}`;
    return `${this.label} ${bar} ${(frac * 100).toFixed(0).padStart(3)}% ${compact(s.tokens)}/${compact(this.totalTokens)} tok ` +
      `${compact(rate)} tok/s ETA ${clock(eta)} loss ${s.loss.toFixed(4)} L0 ${s.l0.toFixed(1)} dead ${(s.deadFraction * 100).toFixed(1)}%`;
  }
}

export function compact(n: number): string {
  if (!Number.isFinite(n)) return "?";
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(0);
}

export function clock(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--:--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${String(r).padStart(2, "0")}` : `${String(m).padStart(2, "0")}:${String(r).padStart(2, "0")}`;
}
