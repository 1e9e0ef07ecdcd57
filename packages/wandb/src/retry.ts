import type { RetryOptions } from "./options.ts";

/** Delay before retry number `attempt` (1-based): initial·multiplier^(attempt−1), capped, plus up to jitter·delay. */
export function backoffDelayMs(attempt: number, retry: RetryOptions, random: () => number = Math.random): number {
  const base = Math.min(retry.maxDelayMs, retry.initialDelayMs * retry.multiplier ** Math.max(0, attempt - 1));
  return base * (1 + retry.jitter * random());
}

/** A sleep that `wake()` ends early; `keepAlive: false` lets the process exit while it waits. */
export class Waiter {
  private timer: NodeJS.Timeout | null = null;
  private resolve: (() => void) | null = null;
  private pendingWake = false;

  sleep(ms: number, keepAlive: boolean): Promise<void> {
    if (this.pendingWake) {
      this.pendingWake = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.resolve = resolve;
      this.timer = setTimeout(() => this.fire(), ms);
      if (!keepAlive) this.timer.unref();
    });
  }

  /** End the current sleep now, or the next one immediately if none is running. */
  wake(): void {
    if (this.resolve === null) this.pendingWake = true;
    else this.fire();
  }

  private fire(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    const resolve = this.resolve;
    this.timer = null;
    this.resolve = null;
    resolve?.();
  }
}
