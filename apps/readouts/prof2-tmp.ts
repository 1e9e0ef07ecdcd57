import * as path from "node:path";
import { useBackend } from "@difflens/tensor";
import { loadAttentionMarkerConfig, runAttentionMarker } from "./src/index.ts";
import { writeMarkerToy } from "./src/toy/marker-toy.ts";
useBackend("auto");
const dir = "/tmp/amtoy/prof2";
const toy = await writeMarkerToy(path.join(dir, "toys"), { seed: 0, plant: "mlp" });
const loaded = loadAttentionMarkerConfig(toy.configFile);
for (const bs of [8, 16, 48, 8, 16, 48]) {
  const config = { ...loaded, generation: { ...loaded.generation, batchSize: bs }, wandb: { ...loaded.wandb, mode: "disabled" as const } };
  const t = Date.now();
  await runAttentionMarker(config, { runDir: path.join(dir, `run-${bs}-${Date.now()}`), log: () => {}, stages: ["generate"] });
  console.log("batch", bs, Date.now() - t);
}
