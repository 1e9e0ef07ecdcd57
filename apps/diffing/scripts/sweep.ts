/**
 * The demo's recovery check over seeds × plant scales (+ the no-plant control), in one process, as a Markdown
 * table: leading |cos| with u, its explained share, the best single latent's |cos| and rank, and wall time.
 * Usage (from apps/diffing): tsx scripts/sweep.ts [--config FILE] [--seeds 0,1,2,3,4] [--scales 0.5,0.75,1]
 *   [--control] [--set '{"sae":{"k":4}}'] [--out DIR]
 * --set deep-merges a JSON patch into the config (to try a variant without writing a file).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { selectBackend } from "@difflens/tensor";
import { loadDiffingConfig, resolveDiffingConfig, runDemo } from "../src/index.ts";

const argv = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1]! : fallback;
};
const configFile = path.resolve(flag("config", "../../configs/diffing/default.json"));
const seeds = flag("seeds", "0,1,2,3,4").split(",").map(Number);
const scales = flag("scales", "0.5,0.75,1").split(",").map(Number);
const control = argv.includes("--control");
const controlOnly = argv.includes("--control-only");
const outDir = path.resolve(flag("out", "/tmp/diffing-sweep"));
const patch = JSON.parse(flag("set", "{}")) as Record<string, unknown>;

function merge(a: unknown, b: unknown): unknown {
  if (
    typeof a !== "object" ||
    a === null ||
    Array.isArray(a) ||
    typeof b !== "object" ||
    b === null ||
    Array.isArray(b)
  )
    return b;
  const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
  for (const [k, v] of Object.entries(b)) out[k] = merge(out[k], v);
  return out;
}

await selectBackend(); // DIFFLENS_BACKEND, else auto
const base = loadDiffingConfig(configFile);
const { file: _f, ...plain } = base;
const config = resolveDiffingConfig(
  merge({ ...plain, wandb: { mode: "disabled" } }, patch),
  path.dirname(configFile),
  configFile,
);
const runs: Array<{ seed: number; scale: number; plant: boolean }> = [];
for (const seed of seeds) {
  if (!controlOnly) for (const scale of scales) runs.push({ seed, scale, plant: true });
  if (control || controlOnly) runs.push({ seed, scale: config.toy!.plantScale, plant: false });
}
console.log(`config ${configFile} + ${JSON.stringify(patch)}`);
console.log(
  "| seed | plant scale | leading \\|cos\\| | explained | best single \\|cos\\| (rank, stage) | pass | wall s |",
);
console.log("| ---: | ---: | ---: | ---: | ---: | :---: | ---: |");
for (const r of runs) {
  const res = await runDemo({
    config,
    seed: r.seed,
    plantScale: r.scale,
    plant: r.plant,
    threshold: 0.9,
    features: false,
    log: () => {},
    runDir: path.join(outDir, `seed-${r.seed}-scale-${r.scale}${r.plant ? "" : "-control"}`),
    force: true,
  });
  const rep = res.report;
  const scale = r.plant ? String(r.scale) : "control";
  console.log(
    `| ${r.seed} | ${scale} | ${rep.leadingCos.toFixed(3)} | ${(rep.explained * 100).toFixed(0)}% | ${rep.bestSingle.cos.toFixed(3)} (${rep.bestSingle.rank}, ${rep.bestSingle.stage}) | ${rep.passed ? "yes" : "no"} | ${res.wallS.toFixed(0)} |`,
  );
}
fs.mkdirSync(outDir, { recursive: true });
