import * as path from "node:path";
import { Tensor, toFloat32Array, useBackend } from "@difflens/tensor";
import { beforeAll, describe, expect, it } from "vitest";
import {
  addVector,
  clampDirection,
  directLogitAttribution,
  klDivergence,
  loadModel,
  logitLens,
  type Model,
  patchActivation,
  perTokenLoss,
  zeroAblateHead,
  zeroAblateMlp,
} from "../src/index.ts";
import { FIXTURES, relErr } from "./helpers.ts";

let model: Model;
beforeAll(async () => {
  useBackend("js");
  model = await loadModel(path.join(FIXTURES, "mha-untied-f32"));
});
const a = [3, 14, 15, 9, 26, 5, 35];
const b = [2, 71, 8, 28, 18, 28, 45];
const D = 32;

describe("interventions", () => {
  it("patching every position of resid_pre 1 from run B reproduces run B", async () => {
    const src = (await model.runWithCache(b, { names: ["blocks.1.hook_resid_pre"] })).cache.get(
      "blocks.1.hook_resid_pre",
    );
    const patched = await model.withHooks([patchActivation("blocks.1.hook_resid_pre", src)], () => model.forward(a));
    expect(relErr(patched, await model.forward(b))).toBeLessThan(1e-6);
  });
  it("patching one position from a position-restricted cache changes only that position onwards", async () => {
    const src = (await model.runWithCache(b, { names: ["blocks.1.hook_resid_pre"], positions: [4] })).cache.get(
      "blocks.1.hook_resid_pre",
    );
    expect(src.shape).toEqual([1, 1, D]);
    const base = (await model.forward(a)).data as Float32Array;
    const patched = (
      await model.withHooks([patchActivation("blocks.1.hook_resid_pre", src, { positions: [4] })], () =>
        model.forward(a),
      )
    ).data as Float32Array;
    const V = model.config.vocabSize;
    expect(relErr(patched.subarray(0, 4 * V), base.subarray(0, 4 * V))).toBe(0);
    expect(relErr(patched.subarray(4 * V, 5 * V), base.subarray(4 * V, 5 * V))).toBeGreaterThan(1e-3);
  });
  it("addVector adds scale·v; clampDirection sets the coefficient", async () => {
    const v = Float32Array.from({ length: D }, (_, i) => (i % 3) - 1);
    const { cache } = await model.withHooks(
      [addVector("blocks.0.hook_resid_post", v, { scale: 2, positions: [1] })],
      () => model.runWithCache(a, { names: ["blocks.0.hook_resid_post"] }),
    );
    const base = (await model.runWithCache(a, { names: ["blocks.0.hook_resid_post"] })).cache.get(
      "blocks.0.hook_resid_post",
    ).data as Float32Array;
    const got = cache.get("blocks.0.hook_resid_post").data as Float32Array;
    for (let i = 0; i < D; i++) expect(got[D + i]).toBeCloseTo(base[D + i]! + 2 * v[i]!, 5);
    expect(got[0]).toBe(base[0]);
    const clamped = (
      await model.withHooks([clampDirection("blocks.0.hook_resid_post", v, { value: 1.5 })], () =>
        model.runWithCache(a, { names: ["blocks.0.hook_resid_post"] }),
      )
    ).cache.get("blocks.0.hook_resid_post").data as Float32Array;
    const norm = Math.hypot(...v);
    for (let p = 0; p < a.length; p++) {
      let dot = 0;
      for (let i = 0; i < D; i++) dot += (clamped[p * D + i]! * v[i]!) / norm;
      expect(dot).toBeCloseTo(1.5, 4);
    }
  });
  it("zero-ablating an MLP makes resid_post equal resid_mid; ablating a head zeroes its z", async () => {
    const { cache } = await model.withHooks([zeroAblateMlp(0), zeroAblateHead(1, 2)], () =>
      model.runWithCache(a, { names: ["blocks.0.hook_resid_mid", "blocks.0.hook_resid_post", "blocks.1.attn.hook_z"] }),
    );
    expect(relErr(cache.get("blocks.0.hook_resid_post"), cache.get("blocks.0.hook_resid_mid"))).toBe(0);
    const z = cache.get("blocks.1.attn.hook_z").data as Float32Array; // [1, 7, 4, 8]
    for (let p = 0; p < 7; p++) for (let i = 0; i < 8; i++) expect(z[(p * 4 + 2) * 8 + i]).toBe(0);
    expect(model.hooks.size).toBe(0);
  });
});

describe("analysis", () => {
  it("logit lens of the last resid_post equals the logits", async () => {
    const L = model.config.nLayers - 1;
    const { logits, cache } = await model.runWithCache(a, { names: [`blocks.${L}.hook_resid_post`] });
    expect(relErr(await logitLens(model, cache.get(`blocks.${L}.hook_resid_post`)), logits!)).toBeLessThan(1e-6);
  });
  it("direct logit attribution of the whole final residual stream equals the logits", async () => {
    const L = model.config.nLayers - 1;
    const { logits, cache } = await model.runWithCache(a, {
      names: [`blocks.${L}.hook_resid_post`, "blocks.0.hook_mlp_out"],
    });
    const resid = cache.get(`blocks.${L}.hook_resid_post`);
    const tokens = [3, 7, 11];
    const dla = directLogitAttribution(model, resid, resid, tokens).data as Float32Array;
    const lg = logits!.data as Float32Array;
    const V = model.config.vocabSize;
    for (let p = 0; p < a.length; p++)
      for (const [k, t] of tokens.entries()) expect(dla[p * 3 + k]).toBeCloseTo(lg[p * V + t]!, 4);
    // linear in the component: parts add up
    const mlp = cache.get("blocks.0.hook_mlp_out");
    const rest = new Tensor(
      "f32",
      resid.shape,
      (resid.data as Float32Array).map((x, i) => x - (mlp.data[i] as number)),
    );
    const restDla = directLogitAttribution(model, rest, resid, tokens).data as Float32Array;
    const sum = toFloat32Array(directLogitAttribution(model, mlp, resid, tokens)).map((x, i) => x + restDla[i]!);
    expect(relErr(sum, dla)).toBeLessThan(1e-5);
  });
  it("per-token loss matches −log softmax; KL of a run with itself is 0 and positive otherwise", async () => {
    const logits = await model.forward(a);
    const loss = perTokenLoss(logits, [a]).data as Float32Array;
    const V = model.config.vocabSize;
    const row = Array.from(logits.data.subarray(0, V) as Float32Array);
    const lse = Math.log(row.reduce((s, x) => s + Math.exp(x), 0));
    expect(loss[0]).toBeCloseTo(lse - row[a[1]!]!, 4);
    expect(Array.from(klDivergence(logits, logits).data as Float32Array)).toEqual(new Array(7).fill(0));
    const other = await model.withHooks([zeroAblateMlp(0)], () => model.forward(a));
    expect(Math.min(...(klDivergence(logits, other).data as Float32Array))).toBeGreaterThan(0);
  });
});
