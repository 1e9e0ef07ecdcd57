import * as path from "node:path";
import { Rng, useBackend } from "@difflens/tensor";
import { beforeAll, describe, expect, it } from "vitest";
import {
  addVector,
  createRandomQwen2,
  forceFeed,
  generate,
  loadModel,
  type Model,
  sampleToken,
  samplingDistribution,
} from "../src/index.ts";
import { availableBackends, FIXTURES, readExpected, relErr } from "./helpers.ts";

describe.each(availableBackends())("generation (%s backend)", (backend) => {
  let model: Model;
  beforeAll(async () => {
    useBackend(backend);
    model = await loadModel(path.join(FIXTURES, "gqa-tied-bf16"));
  });

  it("greedy matches the float64 reference (tokens, per-step logits) and stops at generation_config's eos", async () => {
    useBackend(backend);
    const exp = await readExpected("gqa-tied-bf16/greedy.safetensors");
    const prompt = Array.from(exp.prompt!.data as Int32Array);
    const want = Array.from(exp.tokens!.data as Int32Array);
    expect(model.generation.eosTokenIds).toContain(want[want.length - 1]);
    const r = await generate(model, prompt, { maxNewTokens: 12, returnLogits: true });
    expect(r.tokens[0]).toEqual(want);
    expect(r.finishReasons[0]).toBe("stop");
    expect(relErr(r.stepLogits!, exp.step_logits!)).toBeLessThan(1e-5);
    const free = await generate(model, prompt, { maxNewTokens: 12, stopTokens: [] });
    expect(free.tokens[0]).toEqual(Array.from(exp.free_tokens!.data as Int32Array));
    expect(free.finishReasons[0]).toBe("length");
  });

  it("KV cache gives the same tokens and logits (1e-5) as full recomputation, also sampled, batched, with steering", async () => {
    useBackend(backend);
    const prompts = [
      [5, 9, 2, 33],
      [17, 8],
      [60, 61, 62, 63, 64, 65],
    ];
    const cfg = { maxNewTokens: 10, temperature: 0.9, topP: 0.9, seed: 7, stopTokens: [], returnLogits: true };
    const steer = [
      addVector(
        "blocks.1.hook_resid_post",
        Float32Array.from({ length: 32 }, (_, i) => Math.sin(i)),
        { scale: 0.5 },
      ),
    ];
    const withKv = await model.withHooks(steer, () => generate(model, prompts, cfg));
    const without = await model.withHooks(steer, () => generate(model, prompts, { ...cfg, useKvCache: false }));
    expect(withKv.tokens).toEqual(without.tokens);
    expect(relErr(withKv.stepLogits!, without.stepLogits!)).toBeLessThan(1e-5);
    // batched rows equal lone runs (greedy: the RNG stream is shared across rows when sampling)
    const batched = await generate(model, prompts, { maxNewTokens: 6, stopTokens: [] });
    for (const [b, p] of prompts.entries())
      expect((await generate(model, p, { maxNewTokens: 6, stopTokens: [] })).tokens[0]).toEqual(batched.tokens[b]);
    // steering changed something
    expect((await generate(model, prompts, cfg)).tokens).not.toEqual(withKv.tokens);
    expect(model.hooks.size).toBe(0);
  });

  it("rowSeeds: a row's sampled tokens do not depend on the batch it shares (batch 1 = batch 3, any order)", async () => {
    useBackend(backend);
    const prompts = [
      [5, 9, 2, 33],
      [17, 8],
      [60, 61, 62, 63, 64, 65],
    ];
    const seeds = [11, 22, 33];
    const cfg = { maxNewTokens: 10, temperature: 1, topP: 0.95, stopTokens: [] };
    const batched = await generate(model, prompts, { ...cfg, rowSeeds: seeds });
    for (const [b, p] of prompts.entries())
      expect((await generate(model, [p], { ...cfg, rowSeeds: [seeds[b]!] })).tokens[0]).toEqual(batched.tokens[b]);
    const reversed = await generate(model, [...prompts].reverse(), { ...cfg, rowSeeds: [...seeds].reverse() });
    expect([...reversed.tokens].reverse()).toEqual(batched.tokens);
    await expect(generate(model, prompts, { ...cfg, rowSeeds: [1] })).rejects.toThrow(
      /rowSeeds has 1 seeds for 3 prompts/,
    );
  });

  it("force-feed logits match what generation saw at each step (1e-5)", async () => {
    useBackend(backend);
    const prompt = [3, 4, 5, 6];
    const g = await generate(model, prompt, {
      maxNewTokens: 8,
      temperature: 1,
      seed: 3,
      stopTokens: [],
      returnLogits: true,
    });
    const ff = await forceFeed(model, prompt, g.tokens[0]!, { names: ["blocks.0.hook_resid_post"] });
    expect(ff.stepLogits.shape).toEqual([8, 96]);
    expect(relErr(ff.stepLogits.data as Float32Array, g.stepLogits!.data as Float32Array)).toBeLessThan(1e-5);
    expect(ff.cache.get("blocks.0.hook_resid_post").shape).toEqual([1, 12, 32]);
  });
});

describe("sampling", () => {
  it("is deterministic per seed and validates its inputs", async () => {
    const model = createRandomQwen2({
      config: { vocabSize: 50, dModel: 16, nLayers: 2, nHeads: 2, dMlp: 16 },
      seed: 1,
    });
    const a = await generate(model, [1, 2, 3], { maxNewTokens: 12, temperature: 1.2, topP: 0.95, seed: 42 });
    const b = await generate(model, [1, 2, 3], { maxNewTokens: 12, temperature: 1.2, topP: 0.95, seed: 42 });
    const c = await generate(model, [1, 2, 3], { maxNewTokens: 12, temperature: 1.2, topP: 0.95, seed: 43 });
    expect(a.tokens).toEqual(b.tokens);
    expect(a.tokens).not.toEqual(c.tokens);
    await expect(generate(model, [], { maxNewTokens: 2 })).rejects.toThrow(/empty/);
    await expect(generate(model, [1], { maxNewTokens: 2, stopTokens: [50] })).rejects.toThrow(/outside the vocabulary/);
    await expect(generate(model, [1], { maxNewTokens: 2, topp: 0.5 } as never)).rejects.toThrow(/did you mean "topP"/);
  });
  it("empirical frequencies match the top-p-truncated softmax within sampling error", () => {
    const logits = [2.0, 1.5, 1.0, 0.5, 0.0, -1.0, -3.0];
    const p = { temperature: 0.8, topP: 0.8, topK: 0 };
    const { ids, probs } = samplingDistribution(logits, 0, logits.length, p);
    // analytic: softmax(l/0.8), keep while the mass before a token is < 0.8
    const e = logits.map((l) => Math.exp(l / 0.8));
    const z = e.reduce((s, x) => s + x, 0);
    const full = e.map((x) => x / z);
    let kept = 0;
    for (let acc = 0; kept < full.length && (kept === 0 || acc < 0.8); kept++) acc += full[kept]!;
    expect(ids.length).toBe(kept);
    const n = 40000;
    const counts = new Array(logits.length).fill(0);
    const rng = new Rng(9);
    for (let i = 0; i < n; i++) counts[sampleToken(logits, 0, logits.length, p, rng)]++;
    const keptMass = full.slice(0, kept).reduce((s, x) => s + x, 0);
    for (let t = 0; t < logits.length; t++) {
      const q = t < kept ? full[t]! / keptMass : 0;
      expect(probs[ids.indexOf(t)] ?? 0).toBeCloseTo(q, 12);
      const sd = Math.sqrt(n * q * (1 - q));
      expect(Math.abs(counts[t] - n * q)).toBeLessThanOrEqual(4.5 * sd + 1e-9);
    }
  });
});
