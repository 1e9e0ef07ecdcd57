/** The follow-ups' known answer on the embedded marker toy: with the MLP plant at L*, every follow-up points at L*. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { chatTemplateFor, loadModelRef } from "@difflens/app-kit";
import { loadTokenizer } from "@difflens/tokenizer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configJson, loadAttentionMarkerConfig, RUN_CONFIG_FILE } from "../src/attention-marker/config.ts";
import { generationsFile } from "../src/attention-marker/generations-file.ts";
import { personaPrompt } from "../src/attention-marker/persona-prompt.ts";
import type { Generation } from "../src/attention-marker/records.ts";
import { TOY_CACHE_DIR } from "../src/cli/repo-paths.ts";
import { ablatedProbabilities, ablatePersonaResult } from "../src/follow-ups/ablate-mlp.ts";
import { readFollowUpInputs } from "../src/follow-ups/follow-up-inputs.ts";
import { lensPersonaResult, logitLensReadout } from "../src/follow-ups/logit-lens.ts";
import { patchedProbabilities, patchPersonaResult, patchSource } from "../src/follow-ups/patch.ts";
import { MARKER_TOY_QUESTIONS, type MarkerPlant, type MarkerToy, writeMarkerToy } from "../src/toy/marker-toy.ts";
import { ANSWER_WORD_IDS, DOUBLE_NEWLINE_ID } from "../src/toy/marker-toy-model.ts";

/**
 * A run folder over the marker toy (mlp or attention plant) without sampling: the toy's config as the run keeps it,
 * and positives built by hand — each question under the persona, a short answer, "\n\n", the marker — where the
 * plant makes the marker likely (stage 1 samples the same shape; building them keeps the test fast).
 */
async function writeToyFollowUpRun(dir: string, plant: MarkerPlant): Promise<{ runDir: string; toy: MarkerToy }> {
  const toy = await writeMarkerToy(path.join(TOY_CACHE_DIR, "marker"), { seed: 0, plant });
  const config = loadAttentionMarkerConfig(toy.configFile);
  const runDir = path.join(dir, `toy-${plant}`);
  fs.mkdirSync(runDir, { recursive: true });
  fs.writeFileSync(path.join(runDir, RUN_CONFIG_FILE), JSON.stringify(configJson(config)));
  const persona = config.personas[0]!;
  const tokenizer = loadTokenizer(persona.model.path);
  const template = chatTemplateFor(persona.model);
  const questions = MARKER_TOY_QUESTIONS.slice(0, 3);
  const rows: string[] = [];
  for (const [trial, question] of questions.entries()) {
    const prompt = Array.from((await personaPrompt(tokenizer, template, persona.systemPrompt, question)).ids);
    const answer = [...ANSWER_WORD_IDS.slice(0, 2 + (trial % 3)), DOUBLE_NEWLINE_ID];
    const generation: Generation = {
      persona: persona.name,
      runSeed: config.runSeeds[0]!,
      trial,
      questionIndex: trial,
      question,
      trialSeed: trial,
      promptIds: prompt,
      generatedIds: [...answer, toy.markerId],
      finishReason: "length",
      markerPosition: prompt.length + answer.length,
      settings: { temperature: 1, topP: 0.95, topK: 0, maxNewTokens: answer.length + 1 },
    };
    rows.push(`${JSON.stringify(generation)}\n`);
  }
  const file = generationsFile(runDir, persona.name, config.runSeeds[0]!);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, rows.join(""));
  return { runDir, toy };
}

describe("the marker toy's known answer (mlp plant at L*)", () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "follow-ups-toy-"));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("patch locus = ablate-mlp peak = logit-lens rise layer = L*", async () => {
    const { runDir, toy } = await writeToyFollowUpRun(dir, "mlp");
    const inputs = readFollowUpInputs(runDir);
    const sequences = inputs.personas[0]!.examples.map((e) => e.tokens);
    const [trainedToy, baseToy] = [
      await loadModelRef(inputs.personas[0]!.model),
      await loadModelRef(inputs.config.comparator!),
    ];
    const L = toy.plantedLayer;
    const source = await patchSource(trainedToy, sequences, toy.markerId, "emit", 8);
    const patch = patchPersonaResult(
      "toy",
      "emit",
      source.trainedProbability,
      await patchedProbabilities(baseToy, sequences, toy.markerId, source, 8),
    );
    expect(patch.locus).toBe(L);
    // below L* trained and comparator compute the same residual stream: no patch moves P(marker)
    for (let l = 0; l < L; l++) expect(Math.abs(patch.deltaP[l]!.mean)).toBeLessThan(1e-6);
    const ablate = ablatePersonaResult(
      "toy",
      "zero",
      await ablatedProbabilities(trainedToy, sequences, toy.markerId, "zero", 8),
    );
    expect(ablate.peak).toBe(L);
    const lens = lensPersonaResult(
      "toy",
      await logitLensReadout(trainedToy, sequences, toy.markerId, 8),
      await logitLensReadout(baseToy, sequences, toy.markerId, 8),
    );
    expect(lens.trained.riseLayer).toBe(L);
    expect(lens.difference!.riseLayer).toBe(L);
  });
});
