import { createRandomQwen2, Model, patchActivation, zeroAblateMlp } from "@difflens/runtime";
import { Rng, softmax, Tensor, toFloat32Array } from "@difflens/tensor";
import { describe, expect, it } from "vitest";
import { ablatedProbabilities, ablatePersonaResult } from "../src/follow-ups/ablate-mlp.ts";
import { dlaPersonaResult, dlaReadout } from "../src/follow-ups/dla.ts";
import { lensPersonaResult, logitLensReadout } from "../src/follow-ups/logit-lens.ts";
import { patchedProbabilities, patchPersonaResult, patchSource } from "../src/follow-ups/patch.ts";

// Two random models that differ only in layer PLANT's MLP: 16 neuron pairs (gate = up = ±a·r_j, so each pair's
// output is (a·r_j·x)² ≥ 0) all write the marker's unembedding row, so the planted MLP raises the marker everywhere.
const CONFIG = { vocabSize: 64, dModel: 32, nLayers: 4, nHeads: 4, nKvHeads: 2, dMlp: 48 };
const PLANT = 2;
const MARKER = 7;
const BATCH = 3;

function plantedModel(base: Model, strength: number): Model {
  const { dModel: d, dMlp } = base.config;
  const w = base.weights;
  const layer = w.layers[PLANT]!;
  const gate = toFloat32Array(layer.gateProj).slice(); // [dMlp, dModel]
  const up = toFloat32Array(layer.upProj).slice();
  const down = toFloat32Array(layer.downProj).slice(); // [dModel, dMlp]
  const unembed = toFloat32Array(w.lmHead).subarray(MARKER * d, (MARKER + 1) * d);
  const rng = new Rng(11);
  for (let j = 0; j < 16; j++) {
    const r = Array.from({ length: d }, () => rng.normal());
    const norm = Math.hypot(...r);
    for (const [k, sign] of [
      [2 * j, 1],
      [2 * j + 1, -1],
    ] as const) {
      for (let i = 0; i < d; i++) {
        gate[k * d + i] = (sign * 2 * r[i]!) / norm;
        up[k * d + i] = (sign * 2 * r[i]!) / norm;
      }
      for (let i = 0; i < d; i++) down[i * dMlp + k] = strength * unembed[i]!;
    }
  }
  const f32 = (shape: number[], data: Float32Array) => new Tensor("f32", shape, data);
  const layers = w.layers.map((l, L) =>
    L === PLANT
      ? { ...l, gateProj: f32([dMlp, d], gate), upProj: f32([dMlp, d], up), downProj: f32([d, dMlp], down) }
      : l,
  );
  return new Model({ config: base.config, weights: { ...w, layers }, dtype: "f32" });
}

const base = createRandomQwen2({ config: CONFIG, seed: 1 });
const trained = plantedModel(base, 0.5);
const rng = new Rng(5);
const SEQUENCES = Array.from({ length: 7 }, (_, i) => Array.from({ length: 5 + ((i * 3) % 7) }, () => 8 + rng.int(56)));

/** P(marker) at the last position, one sequence at a time (no batching, no KV cache). */
function directProbability(model: Model, tokens: readonly number[], hooks: Parameters<Model["withHooks"]>[0] = []) {
  const logits = model.withHooks(hooks, () => model.forward(tokens, { logits: "last" }));
  return (softmax(new Tensor("f32", [CONFIG.vocabSize], toFloat32Array(logits))).data as Float32Array)[MARKER]!;
}

describe("follow-ups on two models differing only in one MLP", () => {
  it("the plant raises P(marker)", () => {
    const p = SEQUENCES.map((s) => [directProbability(base, s), directProbability(trained, s)]);
    for (const [pBase, pTrained] of p) expect(pTrained).toBeGreaterThan(pBase! + 0.3);
  });

  it("logit-lens: the marker logit rises most at the planted layer; below it trained = comparator", () => {
    const t = logitLensReadout(trained, SEQUENCES, MARKER, BATCH);
    const c = logitLensReadout(base, SEQUENCES, MARKER, BATCH);
    const r = lensPersonaResult("p", t, c);
    expect(r.trained.riseLayer).toBe(PLANT);
    expect(r.difference!.riseLayer).toBe(PLANT);
    for (let l = 0; l <= PLANT; l++) expect(Math.abs(r.difference!.logit[l]!.mean)).toBeLessThan(1e-5);
    SEQUENCES.forEach((s, i) => expect(t.probability[i]!.at(-1)).toBeCloseTo(directProbability(trained, s), 5));
  });

  it("patch: locus at the planted layer; ΔP matches a direct computation", () => {
    for (const positions of ["emit", "all"] as const) {
      const source = patchSource(trained, SEQUENCES, MARKER, positions, BATCH);
      const comparator = patchedProbabilities(base, SEQUENCES, MARKER, source, BATCH);
      const r = patchPersonaResult("p", positions, source.trainedProbability, comparator);
      expect(r.locus).toBe(PLANT);
      for (let L = 0; L < PLANT; L++) expect(Math.abs(r.deltaP[L]!.mean)).toBeLessThan(1e-6);
      SEQUENCES.forEach((s, i) => {
        const pTrained = directProbability(trained, s);
        const pBase = directProbability(base, s);
        expect(comparator.clean[i]).toBeCloseTo(pBase, 5);
        expect(source.trainedProbability[i]).toBeCloseTo(pTrained, 5);
        // the last layer's patch hands the comparator the trained final residual stream
        expect(comparator.patched[CONFIG.nLayers - 1]![i]).toBeCloseTo(pTrained, 5);
        // the planted layer's patch, recomputed on the sequence alone
        const { cache } = trained.runWithCache(s, { names: [`blocks.${PLANT}.hook_resid_post`] });
        const resid = cache.get(`blocks.${PLANT}.hook_resid_post`);
        const patched = directProbability(base, s, [
          patchActivation(`blocks.${PLANT}.hook_resid_post`, resid, positions === "emit" ? { positions: [-1] } : {}),
        ]);
        expect(comparator.patched[PLANT]![i]).toBeCloseTo(patched, 5);
      });
    }
  });

  it("ablate-mlp: zero-ablation drops P(marker) most at the planted layer; drops match a direct computation", () => {
    const zero = ablatedProbabilities(trained, SEQUENCES, MARKER, "zero", BATCH);
    expect(ablatePersonaResult("p", "zero", zero).peak).toBe(PLANT);
    // mean-ablation replaces the output at t* − 1 by its mean over every position of every sequence
    const mean = ablatedProbabilities(trained, SEQUENCES, MARKER, "mean", BATCH);
    const name = `blocks.${PLANT}.hook_mlp_out`;
    const sum = new Float64Array(CONFIG.dModel);
    let count = 0;
    for (const s of SEQUENCES) {
      const out = toFloat32Array(trained.runWithCache(s, { names: [name] }).cache.get(name));
      out.forEach((v, k) => {
        sum[k % CONFIG.dModel]! += v;
      });
      count += s.length;
    }
    const meanOut = new Tensor(
      "f32",
      [1, 1, CONFIG.dModel],
      Float32Array.from(sum, (v) => v / count),
    );
    SEQUENCES.forEach((s, i) => {
      expect(zero.clean[i]).toBeCloseTo(directProbability(trained, s), 5);
      const zeroed = directProbability(trained, s, [zeroAblateMlp(PLANT, { positions: [-1] })]);
      expect(zero.ablated[PLANT]![i]).toBeCloseTo(zeroed, 5);
      const meaned = directProbability(trained, s, [patchActivation(name, meanOut, { positions: [-1] })]);
      expect(mean.ablated[PLANT]![i]).toBeCloseTo(meaned, 5);
    });
  });

  it("dla: components sum to the marker logit; the planted MLP tops the trained − comparator difference", () => {
    const t = dlaReadout(trained, SEQUENCES, MARKER, BATCH);
    const c = dlaReadout(base, SEQUENCES, MARKER, BATCH);
    SEQUENCES.forEach((s, i) => {
      const logits = toFloat32Array(trained.forward(s, { logits: "last" }));
      expect(t.logit[i]).toBeCloseTo(logits[MARKER]!, 4);
    });
    const r = dlaPersonaResult("p", { nLayers: CONFIG.nLayers, nHeads: CONFIG.nHeads }, t, c);
    expect(r.topDifference![0]!.component).toBe(`L${PLANT}.MLP`);
    expect(r.topTrained[0]!.component).toBe(`L${PLANT}.MLP`);
  });
});
