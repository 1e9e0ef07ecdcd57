import * as path from "node:path";
import { useBackend } from "@difflens/tensor";
import { loadAttentionMarkerConfig, runAttentionMarker, runAblateMlp, runLogitLens, runPatch } from "./src/index.ts";
import { writeMarkerToy } from "./src/toy/marker-toy.ts";
useBackend("auto");
const dir = "/tmp/amtoy/prof-" + Date.now();
for (const plant of ["attention", "mlp"] as const) {
  let t = Date.now();
  const toy = await writeMarkerToy(path.join(dir, "toys"), { seed: 0, plant });
  console.log(plant, "build", Date.now() - t);
  const loaded = loadAttentionMarkerConfig(toy.configFile);
  const config = { ...loaded, wandb: { ...loaded.wandb, mode: "disabled" as const } };
  const runDir = path.join(dir, plant);
  for (const stage of ["generate", "readout", "force-feed", "analyze"] as const) {
    t = Date.now();
    await runAttentionMarker(config, { runDir, log: () => {}, stages: [stage] });
    console.log("  ", stage, Date.now() - t);
  }
  if (plant === "mlp") for (const [n, f] of [["patch", runPatch], ["ablate", runAblateMlp], ["lens", runLogitLens]] as const) { t = Date.now(); await f(runDir, { log: () => {} }); console.log("  ", n, Date.now() - t); }
}
