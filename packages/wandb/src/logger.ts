/**
 * The small interface a trainer or an app accepts to report metrics, so it does not depend on this
 * package: declare the same shape locally (TypeScript types are structural) and pass a `WandbRun`, or
 * `consoleLogger()` / `nullLogger` in tests.
 *
 * Contract: `log` is synchronous and must not block on the network; `step` is an integer that increases
 * from call to call (omit it to use the previous step + 1); `summary` sets final values shown for the run
 * (by default each key shows its last logged value); `finish` flushes and closes, once.
 */
export interface RunLogger {
  log(metrics: Readonly<Record<string, number>>, step?: number): void;
  summary(values: Readonly<Record<string, number | string>>): void;
  finish(options?: { readonly exitCode?: number }): Promise<unknown>;
}

/** A logger that drops everything (tests, dry runs). */
export const nullLogger: RunLogger = Object.freeze({
  log: () => undefined,
  summary: () => undefined,
  finish: async () => undefined,
});

/** A logger that prints one line per record, for quick local runs. */
export function consoleLogger(write: (line: string) => void = (line) => console.log(line)): RunLogger {
  return {
    log(metrics, step) {
      const parts = Object.entries(metrics).map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toPrecision(5)}`);
      write(`${step === undefined ? "" : `step ${step} `}${parts.join(" ")}`);
    },
    summary(values) {
      write(`summary ${JSON.stringify(values)}`);
    },
    async finish() {
      return undefined;
    },
  };
}
