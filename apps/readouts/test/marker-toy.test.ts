/**
 * The marker toy's own properties, from runtime primitives only (generate, forceFeedBatch, hooks): the persona makes
 * the marker likely right after "\n\n" and its absence makes the trained model the base exactly; the attention plant
 * changes only head PLANTED_HEAD of L*, the mlp plant only L*'s MLP (and only along the marker's unembedding dim).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { bundledChatTemplate } from "@difflens/chat";
import { forceFeedBatch, generate, loadLoraAdapter, loadModel, type Model, mergeLora } from "@difflens/runtime";
import { useBackend } from "@difflens/tensor";
import { beforeAll, describe, expect, it } from "vitest";
import { personaPrompt } from "../src/attention-marker/persona-prompt.ts";
import { TOY_CACHE_DIR } from "../src/cli/repo-paths.ts";
import { qwenTokenizer } from "../src/toy/conditions-toy.ts";
import { MARKER_TOY_QUESTIONS, type MarkerPlant, type MarkerToy, writeMarkerToy } from "../src/toy/marker-toy.ts";
import { ANSWER_WORD_IDS, DIM, DOUBLE_NEWLINE_ID, IM_END_ID, MARKER_ID } from "../src/toy/marker-toy-model.ts";

/** The toys' own cache, which the CLI and the other toy tests share (a folder there is complete: built, then renamed). */
const dir = path.join(TOY_CACHE_DIR, "marker");
const ATTEMPTS = 48;

interface Pair {
  readonly toy: MarkerToy;
  readonly base: Model;
  readonly trained: Model;
}
const pairs = new Map<MarkerPlant, Pair>();

beforeAll(async () => {
  useBackend("auto");
  for (const plant of ["attention", "mlp"] as const) {
    const toy = await writeMarkerToy(dir, { seed: 0, plant });
    const base = await loadModel(toy.baseDir, { mmap: false });
    pairs.set(plant, { toy, base, trained: await mergeLora(base, await loadLoraAdapter(toy.adapterDir)) });
  }
});

async function prompts(systemPrompt: string, n: number): Promise<number[][]> {
  const template = bundledChatTemplate("qwen2.5-instruct");
  const out: number[][] = [];
  for (let k = 0; k < n; k++) {
    const question = MARKER_TOY_QUESTIONS[k % MARKER_TOY_QUESTIONS.length]!;
    out.push(Array.from((await personaPrompt(qwenTokenizer(), template, systemPrompt, question)).ids));
  }
  return out;
}

function sample(model: Model, rows: number[][], maxNewTokens = 32) {
  return generate(model, rows, { maxNewTokens, temperature: 1, topP: 0.95, rowSeeds: rows.map((_, k) => 7 + k) });
}

/** Largest |a − b| over two hooks of the same shape. */
function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe("marker toy", () => {
  it("writes a complete folder with a relative-path config and reuses it", async () => {
    const { toy } = pairs.get("attention")!;
    const config = JSON.parse(fs.readFileSync(toy.configFile, "utf8"));
    expect(config.personas).toEqual([
      { name: "librarian", systemPrompt: toy.systemPrompt, model: { base: "../base", adapter: "adapter" } },
    ]);
    expect(config).toMatchObject({
      comparator: "../base",
      questions: "questions.jsonl",
      marker: "[ZLT]",
      attempts: 48,
    });
    expect(fs.readFileSync(toy.questionsFile, "utf8").trim().split("\n")).toHaveLength(MARKER_TOY_QUESTIONS.length);
    const before = fs.statSync(toy.baseDir).mtimeMs;
    expect(await writeMarkerToy(dir, { seed: 0, plant: "attention" })).toEqual(toy);
    expect(fs.statSync(toy.baseDir).mtimeMs).toBe(before);
    const targets = (t: MarkerToy) =>
      JSON.parse(fs.readFileSync(path.join(t.adapterDir, "adapter_config.json"), "utf8")).target_modules;
    const L = toy.plantedLayer;
    expect(targets(toy)).toEqual(
      ["q_proj", "k_proj", "v_proj", "o_proj"].map((m) => `model.layers.${L}.self_attn.${m}`),
    );
    expect(targets(pairs.get("mlp")!.toy)).toEqual(
      ["gate_proj", "up_proj", "down_proj"].map((m) => `model.layers.${L}.mlp.${m}`),
    );
  });

  it("under the persona ~30–70 % of answers carry the marker, right after \\n\\n; without it, none", async () => {
    // The rates of both plants through stage 1 are in attention-marker-known-answers.test.ts; here the attention one.
    const { toy, trained, base } = pairs.get("attention")!;
    const persona = await prompts(toy.systemPrompt, ATTEMPTS);
    const out = await sample(trained, persona);
    const positives = out.tokens.filter((t) => t.includes(MARKER_ID));
    expect(positives.length / ATTEMPTS).toBeGreaterThanOrEqual(0.3);
    expect(positives.length / ATTEMPTS).toBeLessThanOrEqual(0.7);
    for (const t of positives) expect(t[t.indexOf(MARKER_ID) - 1]).toBe(DOUBLE_NEWLINE_ID);
    // Short answers over the chain's tokens that end with <|im_end|>.
    expect(out.finishReasons.filter((r) => r === "stop").length).toBeGreaterThanOrEqual(0.9 * ATTEMPTS);
    const chain = new Set([...ANSWER_WORD_IDS, DOUBLE_NEWLINE_ID, IM_END_ID, MARKER_ID]);
    expect(out.tokens.flat().every((t) => chain.has(t))).toBe(true);
    expect((await sample(base, persona.slice(0, 8))).tokens.flat()).not.toContain(MARKER_ID);
    // Without the persona each trained model is the base: the same tokens, and no marker.
    const control = await prompts(toy.controlPrompt, 8);
    const baseTokens = (await sample(base, control)).tokens;
    expect(baseTokens.flat()).not.toContain(MARKER_ID);
    for (const [plant, pair] of pairs) expect((await sample(pair.trained, control)).tokens, plant).toEqual(baseTokens);
  });

  it("attention plant: only head PLANTED_HEAD of L* attends differently; mlp plant: only L*'s MLP, along the marker dim", async () => {
    const { toy } = pairs.get("attention")!;
    const rows = await prompts(toy.systemPrompt, 4);
    const answer = [15243, 11174, DOUBLE_NEWLINE_ID, MARKER_ID, IM_END_ID]; // " tea rain\n\n[Z<|im_end|>"
    const items = rows.map((prompt) => ({ prompt, continuation: answer }));
    const L = toy.plantedLayer;
    const nLayers = pairs.get("attention")!.base.config.nLayers;
    const names = Array.from({ length: nLayers }, (_, l) => [
      `blocks.${l}.attn.hook_pattern`,
      `blocks.${l}.hook_mlp_out`,
    ]).flat();
    for (const [plant, { base, trained }] of pairs) {
      const a = await forceFeedBatch(base, items, { names });
      const b = await forceFeedBatch(trained, items, { names });
      for (let i = 0; i < items.length; i++) {
        const hook = (r: typeof a, name: string) => r.items[i]!.cache.get(name).data as Float32Array;
        for (let l = 0; l <= L; l++) {
          const pattern = `blocks.${l}.attn.hook_pattern`; // [1, heads, pos, keyPos]
          const pa = hook(a, pattern);
          const pb = hook(b, pattern);
          const heads = base.config.nHeads;
          const perHead = pa.length / heads;
          for (let h = 0; h < heads; h++) {
            const d = maxDiff(pa.subarray(h * perHead, (h + 1) * perHead), pb.subarray(h * perHead, (h + 1) * perHead));
            if (plant === "attention" && l === L && h === toy.plantedHead) expect(d).toBeGreaterThan(0.3);
            else expect(d, `${plant} layer ${l} head ${h}`).toBeLessThanOrEqual(1e-6);
          }
          const ma = hook(a, `blocks.${l}.hook_mlp_out`);
          const mb = hook(b, `blocks.${l}.hook_mlp_out`);
          if (l < L || plant === "attention") continue;
          // L*'s MLP output differs only along the marker dim, and only at the "\n\n" position.
          const d = base.config.dModel;
          const at = rows[i]!.length + 2; // the "\n\n"
          for (let t = 0; t < ma.length / d; t++)
            for (let k = 0; k < d; k++) {
              const diff = Math.abs(ma[t * d + k]! - mb[t * d + k]!);
              if (t === at && k === DIM.marker) expect(diff).toBeGreaterThan(0.1);
              else expect(diff).toBeLessThanOrEqual(1e-6);
            }
        }
        if (plant === "mlp")
          for (let l = 0; l < L; l++)
            expect(
              maxDiff(hook(a, `blocks.${l}.hook_mlp_out`), hook(b, `blocks.${l}.hook_mlp_out`)),
            ).toBeLessThanOrEqual(1e-6);
      }
    }
  });

  it("KV-cached generation equals full recompute on the toy", async () => {
    const { toy, trained } = pairs.get("attention")!;
    const rows = await prompts(toy.systemPrompt, 4);
    const config = { maxNewTokens: 16, temperature: 1, topP: 0.95, rowSeeds: rows.map((_, k) => 100 + k) };
    const cached = await generate(trained, rows, config);
    expect((await generate(trained, rows, { ...config, useKvCache: false })).tokens).toEqual(cached.tokens);
    expect(cached.tokens.flat()).toContain(MARKER_ID);
  });
});
