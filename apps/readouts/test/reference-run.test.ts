/**
 * Issue 17's independent check on a run the app saved: a small `sae-conditions` run of the embedded toy (seed 0;
 * tools/reference/readouts/make_app_run_fixture.ts) against numpy (tools/reference/readouts/app_run_check.py,
 * written from the issue's definitions, fed the run's saved draws). (a) results.json agrees with numpy's
 * expected.json; (b) the app's per-layer analysis, re-run on the saved activations with the saved SAE, reproduces
 * results.json and the saved draws, so a change in the app's wiring turns this red. After an intended change of the
 * app's output: rerun the maker, then app_run_check.py (tools/reference/readouts/README.md).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { readSafetensors } from "@difflens/tensor";
import { describe, expect, it } from "vitest";
import {
  conditionSimilarity,
  type Draws,
  type LayerInputs,
  trackA,
  trackB,
} from "../src/sae-conditions/analyze-layer.ts";
import { resolveSaeConditionsConfig } from "../src/sae-conditions/config.ts";
import { detectDegeneracy } from "../src/sae-conditions/degeneracy.ts";
import { encodeRows, loadLayerSae } from "../src/sae-conditions/encode-readouts.ts";
import type { LayerResults, SaeConditionsResults } from "../src/sae-conditions/results.ts";

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures/reference-run");
const read = (name: string) => JSON.parse(fs.readFileSync(path.join(FIXTURE, name), "utf8"));
const settings = read("fixture.json");
const results: SaeConditionsResults = read("results.json");
const expected = read("expected.json");
const saved: LayerResults = results.layers.find((l) => l.layer === settings.layer)!;

/** Every number within tol (relative where |expected| > 1); everything else equal. */
function expectClose(actual: unknown, want: unknown, where: string, tol = 1e-9): void {
  if (typeof want === "number") {
    if (typeof actual !== "number" || !(Math.abs(actual - want) <= tol * Math.max(1, Math.abs(want))))
      throw new Error(`${where}: ${String(actual)}, expected ${want} (tolerance ${tol})`);
  } else if (Array.isArray(want)) {
    expect(Array.isArray(actual) && actual.length, `${where}: length`).toBe(want.length);
    want.forEach((w, i) => expectClose((actual as unknown[])[i], w, `${where}[${i}]`, tol));
  } else if (want !== null && typeof want === "object") {
    for (const [k, w] of Object.entries(want))
      expectClose((actual as Record<string, unknown>)[k], w, `${where}.${k}`, tol);
  } else expect(actual, where).toBe(want);
}

describe("sae-conditions on a saved toy run vs the numpy reference (issue 17's independent check)", () => {
  it("results.json agrees with numpy's recomputation to 1e-9: similarity, Track A, Track B counts and top latents", () => {
    expect(expected.layer).toBe(saved.layer);
    expectClose(saved.similarity.matrix, expected.similarity, "similarity");
    expectClose(saved.trackA, expected.trackA, "trackA");
    expectClose(saved.trackB, expected.trackB, "trackB");
    // Not vacuous: the planted pair passes latents, the seed's rule is reported, u leads by |d_z|.
    const chosen = settings.trackA.latents[settings.layer];
    expect(saved.trackB[0]!.counts.familywise).toBeGreaterThan(0);
    expect(saved.trackB[0]!.counts.seedRule).toBeDefined();
    expect(saved.trackB[0]!.top[0]!.latent).toBe(chosen[0]);
    expect(saved.trackA!.every((a) => a.pValue === 1 / (1 + a.nNull))).toBe(true);
  });

  it("the app's per-layer analysis, re-run on the saved activations, reproduces results.json and the saved draws", async () => {
    const { tensors, metadata } = await readSafetensors(path.join(FIXTURE, `layer_${settings.layer}.safetensors`));
    const labels: string[] = JSON.parse(metadata.conditions!);
    const P = results.nPrompts;
    const sae = await loadLayerSae(path.join(FIXTURE, "sae"), settings.encodeRule);
    const acts = tensors.acts!.data as Float32Array; // [C, P, dSae]
    const resid = tensors.resid!.data as Float32Array; // [C, P, d]
    // A one-token readout: the saved residuals are the encoded rows, so the saved SAE re-encodes them to `acts`.
    const rows = { data: resid, start: Int32Array.from({ length: labels.length * P + 1 }, (_, i) => i), d: sae.dIn };
    expect(settings.position).toBe("last-prompt-token");
    expect(Array.from(encodeRows(sae, rows, settings.encodeRule).perItem)).toEqual(Array.from(acts));

    const config = resolveSaeConditionsConfig(
      {
        model: "unused-model",
        saes: { [settings.layer]: path.join(FIXTURE, "sae") },
        layers: [settings.layer],
        conditions: labels,
        trackA: settings.trackA,
        trackB: settings.trackB,
        seed: settings.seed,
      },
      FIXTURE,
    );
    const degeneracy = detectDegeneracy(resid, labels, P, sae.dIn, settings.position);
    const x: LayerInputs = { layer: settings.layer, sae, labels, nPrompts: P, acts, resid, degeneracy };
    const draws: Draws = {};
    const again = {
      similarity: conditionSimilarity(x),
      trackA: trackA(x, config, draws),
      trackB: trackB(x, config, draws),
      degeneracy,
    };
    expectClose(
      JSON.parse(JSON.stringify(again)),
      {
        similarity: saved.similarity,
        trackA: saved.trackA,
        trackB: saved.trackB,
        degeneracy: saved.degeneracy,
      },
      "re-run",
      1e-12,
    );
    const drawNames = Object.keys(tensors).filter((n) => /^(tracka_null_sets|trackb_signs)_\d+$/.test(n));
    expect(Object.keys(draws).sort()).toEqual(drawNames.sort());
    for (const name of drawNames) {
      expect(draws[name]!.shape, name).toEqual(tensors[name]!.shape);
      expect(Array.from(draws[name]!.data), name).toEqual(Array.from(tensors[name]!.data as Int32Array));
    }
  });
});
