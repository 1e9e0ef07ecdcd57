import { describe, expect, it } from "vitest";
import { consoleLogger, DEFAULT_RETRY, init, nullLogger, type RunLogger, resolveStreamOptions } from "../src/index.ts";
import { backoffDelayMs } from "../src/retry.ts";
import { tempDir } from "./helpers/harness.ts";

describe("backoff", () => {
  it("grows by the multiplier, caps at maxDelayMs, and adds at most jitter·delay", () => {
    const retry = { ...DEFAULT_RETRY, initialDelayMs: 100, maxDelayMs: 1000, multiplier: 2, jitter: 0.25 };
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelayMs(a, retry, () => 0))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffDelayMs(3, retry, () => 0.999)).toBeCloseTo(400 * 1.24975, 6);
    const samples = Array.from({ length: 200 }, () => backoffDelayMs(2, retry));
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(200);
    expect(Math.max(...samples)).toBeLessThanOrEqual(250);
    expect(new Set(samples).size).toBeGreaterThan(100); // jittered, not in lockstep
  });

  it("stream options: partial input completed from frozen defaults", () => {
    const stream = resolveStreamOptions({ batchIntervalMs: 5, retry: { maxDelayMs: 10 } });
    expect(stream.batchIntervalMs).toBe(5);
    expect(stream.retry).toEqual({ ...DEFAULT_RETRY, maxDelayMs: 10 });
    expect(Object.isFrozen(DEFAULT_RETRY)).toBe(true);
    expect(() => resolveStreamOptions({ batchIntervalMs: -1 })).toThrow(
      expect.objectContaining({ code: "INVALID_OPTION" }),
    );
  });
});

describe("RunLogger", () => {
  it("a run, the null logger and the console logger all satisfy a structurally declared logger type", async () => {
    // What a trainer declares locally instead of importing this package:
    interface TrainerLogger {
      log(metrics: Readonly<Record<string, number>>, step?: number): void;
      summary(values: Readonly<Record<string, number | string>>): void;
      finish(options?: { readonly exitCode?: number }): Promise<unknown>;
    }
    const run = init({ project: "p", mode: "offline", dir: tempDir("logger"), silent: true });
    const lines: string[] = [];
    const loggers: TrainerLogger[] = [run, nullLogger, consoleLogger((l) => lines.push(l))];
    const typed: RunLogger[] = loggers;
    for (const logger of typed) {
      logger.log({ loss: 0.5 }, 0);
      logger.summary({ final: 1 });
      await logger.finish({ exitCode: 0 });
    }
    expect(lines).toEqual(["step 0 loss=0.50000", 'summary {"final":1}']);
  });
});
