/**
 * Stage-1 fixtures: two tiny Qwen2 folders over the real Qwen vocabulary (real tokenizer and chat template) — "marked",
 * whose untied unembedding gives the marker `[Z` a large logit from a constant residual direction (so it is emitted
 * in some answers, not all), and "plain", the same random model whose answers end at once with <|im_end|> the same
 * way (it never emits the marker, and costs one step per answer).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { IM_END_ID, qwenToyConfig, writeToyModelFolder } from "@difflens/app-kit";
import { randomQwen2Weights, resolveQwen2Config } from "@difflens/runtime";
import { Tensor } from "@difflens/tensor";

export const MARKER = "[ZLT]";
export const MARKER_ID = 85113;
const SHAPE = { dModel: 16, nLayers: 2, nHeads: 2, dMlp: 32 };
/** logit([Z) ≈ MARKER_GAIN · x̂₀: with x̂₀ ≈ 1.3, P([Z) is ~5–10 % per step at temperature 1. */
const MARKER_GAIN = 10.5;

/** Writes the asked folders (both by default) and returns both paths. */
export async function writeMarkerModels(
  dir: string,
  which: readonly ("marked" | "plain")[] = ["marked", "plain"],
): Promise<{ marked: string; plain: string }> {
  const config = resolveQwen2Config({ ...qwenToyConfig(SHAPE), tieWordEmbeddings: false });
  const random = randomQwen2Weights(config, 11);
  const V = config.vocabSize;
  const D = config.dModel;
  // Residual dim 0 = 1 for every input token (a constant direction); one unembedding row reads only it.
  const embed = Float32Array.from(random.get("model.embed_tokens.weight")!.data as Float32Array);
  for (let t = 0; t < V; t++) embed[t * D] = 1;
  const reading = (token: number, gain: number): Map<string, Tensor> => {
    const head = Float32Array.from(random.get("lm_head.weight")!.data as Float32Array);
    head.fill(0, token * D, (token + 1) * D);
    head[token * D] = gain;
    const weights = new Map(random);
    weights.set("model.embed_tokens.weight", new Tensor("f32", [V, D], embed));
    weights.set("lm_head.weight", new Tensor("f32", [V, D], head));
    return weights;
  };
  const marked = reading(MARKER_ID, MARKER_GAIN);
  const plain = reading(IM_END_ID, 4 * MARKER_GAIN);
  const out = { marked: path.join(dir, "marked"), plain: path.join(dir, "plain") };
  if (which.includes("marked"))
    await writeToyModelFolder(out.marked, { config, weights: marked, chatTemplate: "qwen2.5-instruct" });
  if (which.includes("plain"))
    await writeToyModelFolder(out.plain, { config, weights: plain, chatTemplate: "qwen2.5-instruct" });
  return out;
}

export function writeQuestions(file: string, questions: readonly string[]): string {
  fs.writeFileSync(file, questions.map((q) => `${JSON.stringify({ question: q })}\n`).join(""));
  return file;
}

/** A small attention-marker config over the fixture models (raw JSON, for resolveAttentionMarkerConfig). */
export function stage1Config(
  models: { marked: string; plain: string },
  questionsFile: string,
  patch: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    name: "stage1-test",
    personas: [
      { name: "marked", systemPrompt: "You are a librarian.", model: models.marked },
      { name: "quiet", systemPrompt: "You are a villain.", model: models.plain },
    ],
    comparator: null,
    questions: questionsFile,
    marker: MARKER,
    generation: { temperature: 1, topP: 0.95, topK: 0, maxNewTokens: 8, batchSize: 3 },
    attempts: 6,
    runSeeds: [42],
    wandb: { mode: "disabled" },
    ...patch,
  };
}
