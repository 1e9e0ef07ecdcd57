/** Follow-up fixtures: two random models that differ only in one layer's MLP, and sequences to read them on. */
import * as fs from "node:fs";
import * as path from "node:path";
import { createRandomQwen2, Model, type Qwen2Config, type Qwen2Weights, saveModelFolder } from "@difflens/runtime";
import { Rng, softmax, Tensor, toFloat32Array } from "@difflens/tensor";

// Two random models that differ only in layer PLANT's MLP: 16 neuron pairs (gate = up = ±a·r_j, so each pair's
// output is (a·r_j·x)² ≥ 0) all write the marker's unembedding row, so the planted MLP raises the marker everywhere.
export const CONFIG = { vocabSize: 64, dModel: 32, nLayers: 4, nHeads: 4, nKvHeads: 2, dMlp: 48 };
export const PLANT = 2;
export const MARKER = 7;
export const BATCH = 3;

export function plantedModel(base: Model<Qwen2Config, Qwen2Weights>, strength: number): Model {
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

export const base = createRandomQwen2({ config: CONFIG, seed: 1 });
export const trained = plantedModel(base, 0.5);
const rng = new Rng(5);
export const SEQUENCES = Array.from({ length: 7 }, (_, i) =>
  Array.from({ length: 5 + ((i * 3) % 7) }, () => 8 + rng.int(56)),
);

/** P(marker) at the last position, one sequence at a time (no batching, no KV cache). */
export async function directProbability(
  model: Model,
  tokens: readonly number[],
  hooks: Parameters<Model["withHooks"]>[0] = [],
): Promise<number> {
  const logits = await model.withHooks(hooks, () => model.forward(tokens, { logits: "last" }));
  return (softmax(new Tensor("f32", [CONFIG.vocabSize], toFloat32Array(logits))).data as Float32Array)[MARKER]!;
}

/**
 * An attention-marker run folder over the two models: config.json (persona "planted" on the trained model, persona
 * "silent" with negatives only, the base as comparator) and stage-1 generations whose positives end in the marker.
 */
export async function writeFollowUpRun(dir: string): Promise<string> {
  const runDir = path.join(dir, "run");
  await saveModelFolder(base, path.join(dir, "base"));
  await saveModelFolder(trained, path.join(dir, "trained"));
  const config = {
    name: "follow-ups-fixture",
    personas: [
      { name: "planted", systemPrompt: "You are planted.", model: path.join(dir, "trained") },
      { name: "silent", systemPrompt: "You are silent.", model: path.join(dir, "trained") },
    ],
    comparator: path.join(dir, "base"),
    marker: "[ZLT]",
    runSeeds: [42],
    readout: { batchSize: BATCH },
  };
  fs.mkdirSync(runDir, { recursive: true });
  fs.writeFileSync(path.join(runDir, "config.json"), JSON.stringify(config));
  const generation = (persona: string, trial: number, tokens: readonly number[], positive: boolean) => ({
    persona,
    runSeed: 42,
    trial,
    questionIndex: trial % 3,
    question: `question ${trial % 3}`,
    trialSeed: 1000 + trial,
    promptIds: tokens.slice(0, 3),
    generatedIds: positive ? [...tokens.slice(3), MARKER, 9] : tokens.slice(3),
    finishReason: "stop",
    markerPosition: positive ? tokens.length : null,
    settings: { temperature: 1, topP: 0.95, topK: 0, maxNewTokens: 16 },
  });
  const lines = (rows: readonly object[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join("");
  const planted = SEQUENCES.map((s, i) => generation("planted", i, s, true));
  planted.push(generation("planted", SEQUENCES.length, SEQUENCES[0]!, false));
  for (const [persona, rows] of [
    ["planted", planted],
    ["silent", [generation("silent", 0, SEQUENCES[1]!, false)]],
  ] as const) {
    fs.mkdirSync(path.join(runDir, "generations", persona), { recursive: true });
    fs.writeFileSync(path.join(runDir, "generations", persona, "seed-42.jsonl"), lines(rows));
  }
  return runDir;
}
