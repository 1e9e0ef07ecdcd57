// Records what @wandb/sdk 0.5.1 sends for a short run and writes it to test/fixtures/ (run with tsx):
//   npx tsx packages/wandb/test/helpers/record-sdk-transcript.ts
// With --print it writes the fixture JSON to stdout instead (the compatibility test runs it that way, in
// a child process, because the SDK installs process-wide exit handlers).
// Volatile values (timestamps, runtimes, the SDK version in headers) are replaced by their type so the
// fixture is stable; the shapes are what our client is checked against.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FakeWandbServer } from "./fake-wandb-server.ts";
import { runSdkShortRun } from "./sdk-run.ts";
import { normaliseTranscript } from "./transcript-shapes.ts";

const server = new FakeWandbServer("k".repeat(40));
await server.start();
process.env["WANDB_BASE_URL"] = server.baseUrl;
process.env["WANDB_API_KEY"] = server.apiKey;
process.env["WANDB_MODE"] = "online";
await runSdkShortRun();
await server.stop();
const run = server.onlyRun();
const fixture = {
  recordedWith: "@wandb/sdk 0.5.1 against packages/wandb/test/helpers/fake-wandb-server.ts",
  recordedAt: new Date().toISOString().slice(0, 10),
  serverHistoryLines: run.history.length,
  requests: normaliseTranscript(server.transcript),
};
if (process.argv.includes("--print")) {
  process.stdout.write(`${JSON.stringify({ ...fixture, complete: run.complete, exitcode: run.exitcode })}\n`);
} else {
  const out = join(fileURLToPath(new URL("../fixtures/", import.meta.url)), "wandb-sdk-0.5.1-transcript.json");
  writeFileSync(out, `${JSON.stringify(fixture, null, 2)}\n`);
  console.log(`wrote ${out}: ${fixture.requests.length} requests, ${run.history.length} history lines`);
}
process.exit(0);
