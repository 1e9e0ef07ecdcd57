/**
 * Issue 17's known answers, on the embedded toy over seeds 0–9, through the app's own pipeline (runSaeConditions):
 * - Track A with the chosen set {u latent} gives p < 0.01 in every seed (every layer, every pair with the planted
 *   condition), and the ten latents orthogonal to u give p > 0.05 in ≥ 8 seeds (per layer and pair);
 * - Track B (family-wise) puts the u latent first by effect size for every pair that involves the planted condition;
 * - two conditions with identical system-prompt text under different labels are a degenerate pair with nothing
 *   passing;
 * - the degeneracy warning fires at `last-system-token`.
 * Smaller than the app's defaults, to fit the test budget: 25 of the 50 built-in prompts (the first 25) and N = 200
 * null sets / sign-flip permutations, so the smallest p is 1/201: Track A's p < 0.01 keeps its meaning, and Track B
 * is run at α = 0.01 (the default 0.001 is below what 200 permutations can reach); the last-system-token run uses
 * seed 0 and 10 prompts.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadSae } from "@difflens/sae";
import { trackAProjection } from "@difflens/stats";
import { readSafetensors, useBackend } from "@difflens/tensor";
import { afterAll, describe, expect, it } from "vitest";
import {
  BUILTIN_PROMPTS_FILE,
  readPrompts,
  resolveSaeConditionsConfig,
  runSaeConditions,
  type SaeConditionsResults,
} from "../src/index.ts";
import { type ConditionsToy, writeConditionsToy } from "../src/toy/conditions-toy.ts";

const SEEDS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
const N = 200;
const DUPLICATE = "custom (same text)";
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "toy-known-answers-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function promptsFile(n: number): Promise<string> {
  const file = path.join(dir, `prompts-${n}.jsonl`);
  const prompts = (await readPrompts(BUILTIN_PROMPTS_FILE)).slice(0, n);
  fs.writeFileSync(file, prompts.map((p) => `${JSON.stringify({ id: p.id, text: p.text })}\n`).join(""));
  return file;
}

/** The toy's config plus a fifth condition: the custom prompt's text again, under another label. */
function config(toy: ConditionsToy, prompts: string, extra: Record<string, unknown> = {}) {
  const others = toy.conditions.filter((c) => c !== toy.plantedCondition);
  const custom = others[0]!;
  return resolveSaeConditionsConfig(
    {
      model: { path: toy.modelDir, adapter: toy.adapterDir },
      saes: Object.fromEntries(toy.layers.map((l) => [String(l), toy.saeDirs[l]!])),
      hook: toy.hook,
      layers: [...toy.layers],
      conditions: [...toy.conditions, { label: DUPLICATE, condition: custom }],
      prompts,
      trackA: {
        latents: Object.fromEntries(toy.layers.map((l) => [String(l), [toy.uLatent]])),
        pairs: others.map((o) => [toy.plantedCondition, o]),
        nNull: N,
      },
      trackB: {
        nPermutations: N,
        alpha: 0.01,
        pairs: [...others.map((o) => [toy.plantedCondition, o]), [custom, DUPLICATE]],
      },
      batchSize: 16,
      wandb: { mode: "disabled" },
      ...extra,
    },
    dir,
  );
}

describe("embedded toy: known answers over seeds 0–9", () => {
  it("Track A, Track B, the identical-text pair", async () => {
    useBackend("auto");
    const prompts = await promptsFile(25);
    const orthogonalPasses = new Map<string, number>(); // "layer|pair" → seeds with p > 0.05
    for (const seed of SEEDS) {
      const toy = await writeConditionsToy(path.join(dir, "toys"), { seed });
      const runDir = path.join(dir, `run-${seed}`);
      const results: SaeConditionsResults = await runSaeConditions(config(toy, prompts), {
        runDir,
        figures: false,
        log: () => {},
      });
      for (const layer of results.layers) {
        const where = `seed ${seed}, layer ${layer.layer}`;
        for (const a of layer.trackA!)
          expect(a.pValue, `${where}, Track A {u} ${a.pair.join(" − ")}`).toBeLessThan(0.01);
        for (const b of layer.trackB) {
          if (b.pair.includes(toy.plantedCondition)) {
            expect(b.top[0]?.latent, `${where}, Track B ${b.pair.join(" vs ")}: first by |d_z|`).toBe(toy.uLatent);
            expect(b.top[0]!.pFamilywise, `${where}, Track B ${b.pair.join(" vs ")}`).toBeLessThanOrEqual(b.alpha);
          } else {
            // Identical system-prompt text under two labels: identical activations, nothing tested, nothing passes.
            expect(b.pair).toEqual([toy.conditions[1], DUPLICATE]);
            expect(b.counts).toMatchObject({ familywise: 0, perFeature: 0, tested: 0 });
            expect(b.top).toEqual([]);
            expect(b.allDegenerate, `${where}: the identical-text pair is flagged degenerate`).toBe(true);
            expect(b.note).toMatch(/identical activations for every prompt/);
          }
        }
        // The ten latents orthogonal to u, on the same Δ̄ and null as the app's Track A (seeded alike).
        const sae = await loadSae(toy.saeDirs[layer.layer]!);
        const { tensors } = await readSafetensors(path.join(runDir, layer.activations));
        const resid = tensors.resid!.data as Float32Array; // [C, P, d]
        const [, P, d] = tensors.resid!.shape as [number, number, number];
        const labels = results.conditions.map((c) => c.label);
        for (const a of layer.trackA!) {
          const [ca, cb] = [labels.indexOf(a.pair[0]), labels.indexOf(a.pair[1])];
          const delta = new Float64Array(d);
          for (let p = 0; p < P; p++)
            for (let k = 0; k < d; k++) delta[k]! += (resid[(ca * P + p) * d + k]! - resid[(cb * P + p) * d + k]!) / P;
          const decoder = { data: sae.weights.wDec, rows: sae.dSae, cols: d };
          const r = trackAProjection(delta, decoder, toy.orthogonalLatents, { nNull: N, seed: results.seed });
          const key = `layer ${layer.layer} | ${a.pair.join(" − ")}`;
          orthogonalPasses.set(key, (orthogonalPasses.get(key) ?? 0) + (r.pValue > 0.05 ? 1 : 0));
        }
      }
    }
    expect(orthogonalPasses.size).toBe(9);
    for (const [key, passes] of orthogonalPasses)
      expect(passes, `${key}: orthogonal set p > 0.05 in ≥ 8 of 10 seeds`).toBeGreaterThanOrEqual(8);
  }, 120_000);

  it("warns of degeneracy at last-system-token", async () => {
    const toy = await writeConditionsToy(path.join(dir, "toys"), { seed: 0 });
    const results = await runSaeConditions(
      config(toy, await promptsFile(10), { position: "last-system-token", trackA: null }),
      { runDir: path.join(dir, "run-last-system"), figures: false, log: () => {} },
    );
    for (const layer of results.layers) {
      // no-system-turn has no system token (it falls back); every condition with a system prompt is flagged.
      const flagged = layer.degeneracy.map((w) => w.condition);
      expect(flagged).toEqual(expect.arrayContaining(["model-default", "custom:You are a helpful assistant."]));
      for (const w of layer.degeneracy) expect(w.message).toMatch(/cannot see the prompt/);
    }
    expect(results.warnings.length).toBeGreaterThan(0);
  }, 60_000);
});
