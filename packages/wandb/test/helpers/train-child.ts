// A short "training loop" run as a child process by the crash test: logs online to $WANDB_BASE_URL and
// records in a progress file how many log() calls have returned, until the parent kills it with SIGKILL.
// (A regular file, written synchronously: a pipe to the parent could lag or refuse writes with EAGAIN.)
import { openSync, writeSync } from "node:fs";
import { init } from "../../src/index.ts";

const [dir, baseUrl, progressFile] = process.argv.slice(2);
const progress = openSync(progressFile!, "w");
const run = init({
  project: "crash",
  mode: "online",
  dir,
  baseUrl,
  silent: true,
  stream: { batchIntervalMs: 20, retry: { initialDelayMs: 20, maxDelayMs: 200, requestTimeoutMs: 400 } },
});
writeSync(progress, `${run.folder}\n${"0".padStart(12)}`, 0);
const counterAt = Buffer.byteLength(`${run.folder}\n`);
for (let step = 0; step < 1_000_000; step++) {
  run.log({ loss: 1 / (step + 1), lr: 1e-3, text: "x".repeat(step % 50) });
  writeSync(progress, String(step + 1).padStart(12), counterAt);
  if (step % 5 === 4) await new Promise((resolve) => setTimeout(resolve, 1));
}
