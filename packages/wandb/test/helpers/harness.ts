import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseWandbJson } from "../../src/wandb-json.ts";

/** Short timings so fault tests finish in seconds; the retry policy is the production one, scaled down. */
export const TEST_STREAM = Object.freeze({
  batchIntervalMs: 20,
  heartbeatMs: 60_000,
  finishTimeoutMs: 15_000,
  retry: { initialDelayMs: 20, maxDelayMs: 200, multiplier: 2, jitter: 0.25, requestTimeoutMs: 400 },
});

export const API_KEY = "a".repeat(40);

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `difflens-wandb-${prefix}-`));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** The single run folder under `dir`. */
export function onlyRunFolder(dir: string): string {
  const entries = readdirSync(dir).filter((e) => e.startsWith("run-"));
  if (entries.length !== 1) throw new Error(`expected one run folder in ${dir}, found ${entries.join(", ")}`);
  return join(dir, entries[0]!);
}

/** Complete lines of a folder's history.jsonl, parsed (a torn last line is dropped, as sync does). */
export function localHistory(folder: string): Record<string, unknown>[] {
  const text = readFileSync(join(folder, "history.jsonl"), "utf8");
  const complete = text.slice(0, text.lastIndexOf("\n") + 1);
  return complete
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => parseWandbJson(l) as Record<string, unknown>);
}

/** Collects what a run prints. */
export function collector(): { lines: string[]; say: (m: string) => void } {
  const lines: string[] = [];
  return { lines, say: (m) => lines.push(m) };
}
