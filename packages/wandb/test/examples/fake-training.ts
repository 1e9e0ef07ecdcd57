// The README example: a short fake training run logged online (to a loopback W&B server) and offline,
// then the offline run synced. Run it: npx tsx packages/wandb/test/examples/fake-training.ts

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { init, type RunLogger, syncRunFolder } from "../../src/index.ts";
import { FakeWandbServer } from "../helpers/fake-wandb-server.ts";

/** A trainer that knows only the RunLogger shape, not this package. */
async function train(logger: RunLogger, steps: number): Promise<void> {
  let loss = 2.5;
  for (let step = 0; step < steps; step++) {
    loss *= 0.97;
    logger.log({ loss, lr: 1e-3 * Math.min(1, (step + 1) / 10) }, step);
    await new Promise((r) => setTimeout(r, 1)); // the data loader
  }
  logger.summary({ final_loss: loss });
}

export async function example(say: (line: string) => void = console.log): Promise<{ online: number; offline: number }> {
  const server = new FakeWandbServer("k".repeat(40));
  await server.start();
  const dir = mkdtempSync(join(tmpdir(), "difflens-wandb-example-"));
  try {
    // Online: streams in the background while training; finish() drains and closes the run.
    const online = init(
      { project: "demo", mode: "online", dir, baseUrl: server.baseUrl, apiKey: server.apiKey, config: { lr: 1e-3 } },
      say,
    );
    await train(online, 50);
    online.saveFile("results.json", JSON.stringify({ final: "ok" }));
    say(`online: ${JSON.stringify(await online.finish())}`);

    // Offline: the folder only; `pnpm difflens-wandb sync <folder>` (here: syncRunFolder) uploads it later.
    const offline = init({ project: "demo", mode: "offline", dir, config: { lr: 1e-3 } }, say);
    await train(offline, 30);
    await offline.finish();
    const report = await syncRunFolder(offline.folder!, { baseUrl: server.baseUrl, apiKey: server.apiKey });
    say(`offline then sync: ${report.sentLines} lines sent, run closed: ${report.completed}`);
    const [a, b] = [...server.runs.values()].map((r) => r.history.length);
    say(`server holds ${a} + ${b} history lines`);
    return { online: a ?? 0, offline: b ?? 0 };
  } finally {
    await server.stop();
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await example();
