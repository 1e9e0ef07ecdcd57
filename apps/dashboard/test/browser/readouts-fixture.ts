/**
 * A real attention-marker readouts run for the browser tests: the readouts app's own command on its embedded toy
 * (MLP plant, seed 0: generations with the marker, per-layer lines with SEM bands, the gates), W&B off. Built once
 * into `runs/.cache/dashboard-fixture/attention-marker-v<N>/run` (≈ 5 s cold; the toy's models are shared with the
 * readouts tests under runs/readouts/toy) and reused. Written beside the cache and renamed in, so a reader never sees a
 * half-written run; when two processes race, the first rename wins and the other's copy is dropped.
 */
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { main as readoutsMain } from "readouts";

export const READOUTS_FIXTURE_VERSION = 1;

const REPO = resolve(fileURLToPath(new URL(".", import.meta.url)), "../../../..");
const CACHE = join(REPO, "runs", ".cache", "dashboard-fixture", `attention-marker-v${READOUTS_FIXTURE_VERSION}`);

let pending: Promise<string> | null = null;

/** Absolute path of the fixture's readouts run folder (built on first use). */
export function attentionMarkerFixtureRun(): Promise<string> {
  pending ??= ensureRun();
  return pending;
}

async function ensureRun(): Promise<string> {
  const runDir = join(CACHE, "run");
  if (existsSync(join(runDir, "results.json"))) return runDir;
  mkdirSync(dirname(CACHE), { recursive: true });
  const tmp = `${CACHE}.tmp-${process.pid}-${Date.now()}`;
  const lines: string[] = [];
  const argv = ["attention-marker", "--run-dir", join(tmp, "run"), "--wandb", "disabled"];
  const status = await readoutsMain(argv, (line) => lines.push(line));
  if (status !== 0) throw new Error(`readouts ${argv.join(" ")} exited ${status}:\n${lines.join("\n")}`);
  try {
    renameSync(tmp, CACHE);
  } catch (error) {
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(join(runDir, "results.json"))) throw error;
  }
  return runDir;
}
