import * as path from "node:path";
import { Tensor, useBackend } from "@difflens/tensor";
import { beforeAll, describe, expect, it } from "vitest";
import { createRandomQwen2, HOOK_SITES, HookError, loadModel, type Model } from "../src/index.ts";
import { FIXTURES, relErr } from "./helpers.ts";

let model: Model;
beforeAll(async () => {
  useBackend("js");
  model = await loadModel(path.join(FIXTURES, "gqa-tied-bf16"));
});
const ids = [5, 9, 2, 33, 17, 8, 60];

describe("hook table", () => {
  it("declares every site once with its shape, and names every layer", () => {
    expect(new Set(HOOK_SITES.map((s) => s.template)).size).toBe(HOOK_SITES.length);
    const names = model.hookNames();
    expect(names.length).toBe(2 + model.config.nLayers * (HOOK_SITES.length - 2));
    expect(model.hookShape("blocks.0.attn.hook_k", 2, 7)).toEqual([2, 7, 2, 8]); // kv heads as stored (GQA)
    expect(model.hookShape("blocks.0.attn.hook_pattern", 2, 1, 6)).toEqual([2, 4, 1, 7]);
  });
  it("every hook fires with its declared shape, in forward order", async () => {
    const seen: string[] = [];
    const hooks = Object.fromEntries(
      model.hookNames().map((n) => [
        n,
        (t: Tensor) => {
          expect(t.shape, n).toEqual(model.hookShape(n, 1, ids.length));
          seen.push(n);
        },
      ]),
    );
    await model.withHooks(hooks, () => model.forward(ids));
    expect(seen).toEqual(model.hookNames());
  });
  it("unknown hook names suggest the nearest", async () => {
    expect(() => model.addHook("blocks.1.hook_resid_psot", () => {})).toThrow(
      /did you mean "blocks.1.hook_resid_post"/,
    );
    await expect(model.runToHook(ids, "blocks.9.hook_resid_post")).rejects.toThrow(HookError);
  });
});

describe("withHooks / runWithCache / runToHook", () => {
  it("withHooks removes hooks after success and after an error", async () => {
    const noop = () => {};
    await model.withHooks({ "blocks.0.hook_resid_post": noop }, () => model.forward(ids));
    expect(model.hooks.size).toBe(0);
    await expect(
      model.withHooks(
        {
          "blocks.0.hook_resid_post": () => {
            throw new Error("boom");
          },
        },
        () => model.forward(ids),
      ),
    ).rejects.toThrow("boom");
    expect(model.hooks.size).toBe(0);
    await expect(
      model.withHooks({ hook_embed: noop }, async () => {
        throw new Error("async boom");
      }),
    ).rejects.toThrow("async boom");
    expect(model.hooks.size).toBe(0);
  });
  it("keeps only asked names and positions", async () => {
    const full = await model.runWithCache(ids, { names: ["blocks.1.hook_resid_post", "blocks.1.attn.hook_pattern"] });
    expect(full.cache.names().sort()).toEqual(["blocks.1.attn.hook_pattern", "blocks.1.hook_resid_post"]);
    const some = await model.runWithCache(ids, { filter: (n) => n.endsWith("hook_resid_post"), positions: [0, -1] });
    expect(some.cache.size).toBe(model.config.nLayers);
    const r = some.cache.get("blocks.1.hook_resid_post");
    expect(r.shape).toEqual([1, 2, 32]);
    const f = full.cache.get("blocks.1.hook_resid_post").data as Float32Array;
    expect(Array.from((r.data as Float32Array).subarray(32, 64))).toEqual(Array.from(f.subarray(6 * 32, 7 * 32)));
    expect(some.cache.get("blocks.0.hook_resid_post").shape).toEqual([1, 2, 32]);
    await expect(model.runWithCache(ids, { positions: [7] })).rejects.toThrow(/outside/);
  });
  it("runToHook computes nothing past the hook", async () => {
    let later = 0;
    const t = await model.withHooks(
      {
        "blocks.1.hook_resid_mid": () => {
          later++;
        },
        "ln_final.hook_normalized": () => {
          later++;
        },
      },
      () => model.runToHook(ids, "blocks.0.hook_resid_post"),
    );
    expect(later).toBe(0);
    const ref = (await model.runWithCache(ids, { names: ["blocks.0.hook_resid_post"] })).cache.get(
      "blocks.0.hook_resid_post",
    );
    expect(relErr(t, ref)).toBe(0);
    const none = await model.runWithCache(ids, { names: ["blocks.0.hook_attn_out"], logits: "none" });
    expect(none.logits).toBeUndefined();
    expect(none.cache.has("blocks.0.hook_attn_out")).toBe(true);
  });
  it("a replacing hook changes everything downstream; a wrong shape is an error", async () => {
    const base = await model.forward(ids);
    const zeros = new Tensor("f32", [1, 7, 32], new Float32Array(7 * 32));
    const changed = await model.withHooks({ "blocks.2.hook_resid_pre": () => zeros }, () => model.forward(ids));
    expect(relErr(changed, base)).toBeGreaterThan(0.1);
    const bad = new Tensor("f32", [1, 6, 32], new Float32Array(6 * 32));
    await expect(model.withHooks({ "blocks.2.hook_resid_pre": () => bad }, () => model.forward(ids))).rejects.toThrow(
      /expected f32 \[1, 7, 32\]/,
    );
  });
  it("hook_result sums to hook_attn_out", async () => {
    const { cache } = await model.runWithCache(ids, { names: ["blocks.0.attn.hook_result", "blocks.0.hook_attn_out"] });
    const res = cache.get("blocks.0.attn.hook_result").data as Float32Array; // [1, 7, 4, 32]
    const sum = new Float32Array(7 * 32);
    for (let p = 0; p < 7; p++)
      for (let h = 0; h < 4; h++) for (let i = 0; i < 32; i++) sum[p * 32 + i]! += res[(p * 4 + h) * 32 + i]!;
    expect(relErr(sum, cache.get("blocks.0.hook_attn_out"))).toBeLessThan(1e-6);
  });
  it("random models are deterministic from the seed", async () => {
    const cfg = { vocabSize: 50, dModel: 16, nLayers: 2, nHeads: 4, nKvHeads: 2, dMlp: 24 };
    const a = await createRandomQwen2({ config: cfg, seed: 3 }).forward([1, 2, 3]);
    const b = await createRandomQwen2({ config: cfg, seed: 3 }).forward([1, 2, 3]);
    const c = await createRandomQwen2({ config: cfg, seed: 4 }).forward([1, 2, 3]);
    expect(relErr(a, b)).toBe(0);
    expect(relErr(a, c)).toBeGreaterThan(0.1);
  });
});
