/**
 * Saves a small run of `sae-conditions` on the embedded toy (seed 0) as the fixture of
 * apps/readouts/test/reference-run.test.ts and of app_run_check.py:
 *   pnpm tsx tools/reference/readouts/make_app_run_fixture.ts
 * The toy's config cut small (12 of the built-in prompts, one layer, N = 200 for both tracks, Track A on u and four
 * latents orthogonal to it, Track B at α 0.01 with the seed's rule beside max-T, the top 10); copied from the run: activations/layer_L.safetensors (acts, resid and the draws),
 * results.json (absolute paths under the checkout made relative), the layer's SAE folder (ae.pt + config.json), and
 * the SAE's `decoder.weight` exported as stored ([d, d_sae], f32) to decoder.npy, so numpy without torch can read it
 * and does its own transpose. fixture.json records the analysis settings the test re-runs with.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { readTorchStateDict } from "@difflens/sae";
import { TOY_CACHE_DIR } from "../../../apps/readouts/src/cli/repo-paths.ts";
import { toyConfig } from "../../../apps/readouts/src/cli/sae-conditions-command.ts";
import type { SaeConditionsConfig } from "../../../apps/readouts/src/sae-conditions/config.ts";
import { BUILTIN_PROMPTS_FILE } from "../../../apps/readouts/src/sae-conditions/prompt-files.ts";
import { runSaeConditions } from "../../../apps/readouts/src/sae-conditions/run-sae-conditions.ts";
import { writeConditionsToy } from "../../../apps/readouts/src/toy/conditions-toy.ts";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const OUT = path.join(REPO, "apps/readouts/test/fixtures/reference-run");
const SEED = 0;
const LAYER = 2;
const N_PROMPTS = 12;
const N_DRAWS = 200;

const toy = await writeConditionsToy(TOY_CACHE_DIR, { seed: SEED, log: console.log });
const work = fs.mkdtempSync(path.join(os.tmpdir(), "reference-run-"));
const prompts = path.join(work, "prompts.jsonl");
fs.writeFileSync(
  prompts,
  `${fs.readFileSync(BUILTIN_PROMPTS_FILE, "utf8").split("\n").slice(0, N_PROMPTS).join("\n")}\n`,
);
const base = toyConfig(toy);
const chosen = [toy.uLatent, ...toy.orthogonalLatents.slice(0, 4)];
const config: SaeConditionsConfig = {
  ...base,
  prompts,
  layers: [LAYER],
  trackA: { ...base.trackA!, nNull: N_DRAWS, latents: { [LAYER]: chosen } },
  // α 0.01: with N = 200 the smallest p is 1/201, so the default α 0.001 would pass nothing.
  trackB: { ...base.trackB, nPermutations: N_DRAWS, alpha: 0.01, top: 10, rule: "seed-percentile" },
  seed: SEED,
  wandb: { ...base.wandb, mode: "disabled" },
};
const runDir = path.join(work, "run");
await runSaeConditions(config, { runDir, figures: false, log: console.log });

fs.rmSync(OUT, { recursive: true, force: true });
fs.mkdirSync(path.join(OUT, "sae"), { recursive: true });
const activations = `layer_${LAYER}.safetensors`;
fs.copyFileSync(path.join(runDir, "activations", activations), path.join(OUT, activations));
const results = fs.readFileSync(path.join(runDir, "results.json"), "utf8").replaceAll(`${REPO}/`, "");
fs.writeFileSync(path.join(OUT, "results.json"), results);
const saeDir = config.saes[LAYER]!;
for (const file of ["ae.pt", "config.json"]) fs.copyFileSync(path.join(saeDir, file), path.join(OUT, "sae", file));
const decoder = readTorchStateDict(path.join(saeDir, "ae.pt")).get("decoder.weight")!;
fs.writeFileSync(path.join(OUT, "decoder.npy"), npyF32(decoder.shape, Float32Array.from(decoder.values)));
const settings = {
  seed: SEED,
  layer: LAYER,
  position: JSON.parse(results).position,
  trackA: config.trackA,
  trackB: config.trackB,
  encodeRule: config.encodeRule,
};
fs.writeFileSync(path.join(OUT, "fixture.json"), `${JSON.stringify(settings, null, 2)}\n`);
fs.rmSync(work, { recursive: true, force: true });
console.log(`wrote ${path.relative(REPO, OUT)}; now /usr/bin/python3 tools/reference/readouts/app_run_check.py`);

/** A C-order little-endian f32 .npy (format 1.0: magic, header length, a padded dict literal, the data). */
function npyF32(shape: readonly number[], data: Float32Array): Buffer {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(", ")}${shape.length === 1 ? "," : ""}), }`;
  const unpadded = 10 + dict.length + 1;
  const header = `${dict}${" ".repeat((64 - (unpadded % 64)) % 64)}\n`;
  const prefix = Buffer.alloc(10);
  prefix.write("\x93NUMPY", 0, "latin1");
  prefix.writeUInt8(1, 6);
  prefix.writeUInt8(0, 7);
  prefix.writeUInt16LE(header.length, 8);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.concat([prefix, Buffer.from(header, "latin1"), body]);
}
