/**
 * Each Gemma fixture exercises its quirks: switching one off in our runtime (config or weights) breaks the 1e-4
 * match with the float64 reference, while the unchanged model matches. The structural quirks the config cannot
 * switch (×√dModel, (1 + w), post-norms, tanh GELU, GQA mapping) are switched off in the reference itself:
 * make_fixtures.py asserts each moves the logits by > 1e-2 (tanh GELU: its site by > 1.2e-4) and records it.
 * Also: the config readers (missing fields named, refusals), their round trip, and the hook tables.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { readSafetensors, Tensor, useBackend, writeSafetensors } from "@difflens/tensor";
import { describe, expect, it } from "vitest";
import {
  createRandomModel,
  familyForHfConfig,
  type GemmaConfig,
  type GemmaWeights,
  loadModel,
  Model,
  writeRandomModelFolder,
} from "../src/index.ts";
import { ids2d, relErr } from "./helpers.ts";

const TOL = 1e-4;
const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures");
const readJson = (...p: string[]) => JSON.parse(fs.readFileSync(path.join(ROOT, ...p), "utf8"));

type Switch = (c: GemmaConfig, w: GemmaWeights) => { config?: Partial<GemmaConfig>; weights?: GemmaWeights };

/** How our runtime switches each quirk off (what is not here is checked in the reference). */
const SWITCHES: Record<string, Switch> = {
  attn_softcap: () => ({ config: { attnLogitSoftcap: null } }),
  final_softcap: () => ({ config: { finalLogitSoftcap: null } }),
  sliding_window: (c) => ({ config: { layerTypes: c.layerTypes.map(() => "full_attention" as const) } }),
  query_pre_attn_scalar: (c) => ({ config: { queryPreAttnScalar: c.dHead } }),
  local_rope_base: (c) => ({ config: { ropeLocalTheta: c.ropeTheta } }),
  rope_scaling: () => ({ config: { ropeLinearFactor: null } }),
  qk_norm: (_c, w) => ({
    weights: { ...w, layers: w.layers.map(({ qNorm: _q, kNorm: _k, ...rest }) => rest) },
  }),
};

for (const family of ["gemma2", "gemma3"]) {
  const cases = readJson(family, "manifest.json").cases as Record<
    string,
    { quirk_effect_on_logits: Record<string, number>; seq: number }
  >;
  describe(`${family} fixtures exercise their quirks`, () => {
    for (const [name, info] of Object.entries(cases)) {
      const quirks = Object.keys(info.quirk_effect_on_logits).filter((q) => q in SWITCHES);
      it(`${name}: switching off ${quirks.join(", ")} breaks the match`, async () => {
        useBackend("js");
        const model = await loadModel(path.join(ROOT, family, name));
        const want = (await readSafetensors(path.join(ROOT, family, name, `expected-seq${info.seq}.safetensors`)))
          .tensors;
        const ids = ids2d(want.input_ids!);
        expect(relErr(await model.forward(ids), want.logits!)).toBeLessThan(TOL);
        const c = model.config as GemmaConfig;
        for (const q of quirks) {
          const off = SWITCHES[q]!(c, model.hostWeights as GemmaWeights);
          const changed = new Model({
            config: Object.freeze({ ...c, ...off.config }),
            weights: off.weights ?? model.hostWeights,
            dtype: model.dtype,
          });
          const err = relErr(await changed.forward(ids), want.logits!);
          expect(err, `${name} without ${q}`).toBeGreaterThan(10 * TOL);
          changed.close();
        }
        model.close();
      });
    }
    it("the reference's own switches: every claimed quirk moved the logits beyond the bound", () => {
      const m = readJson(family, "manifest.json");
      for (const info of Object.values(cases))
        for (const [q, effect] of Object.entries(info.quirk_effect_on_logits)) {
          if (q.startsWith("gelu_tanh")) continue;
          expect(effect, q).toBeGreaterThan(m.quirk_min_effect);
        }
    });
  });
}

describe("Gemma config readers", () => {
  const g2 = readJson("gemma2", "gqa-tied-bf16", "config.json");
  const g3 = readJson("gemma3", "gqa-tied-bf16", "config.json");
  const read = (json: Record<string, unknown>) => familyForHfConfig(json).configFromHf(json, "config.json");

  it("pick the family by model_type or architectures and round-trip through configToHf", () => {
    for (const json of [
      g2,
      g3,
      readJson("gemma2", "mha-untied-f32", "config.json"),
      readJson("gemma3", "mha-untied-f32", "config.json"),
    ]) {
      const family = familyForHfConfig(json);
      const c = family.configFromHf(json, "config.json");
      expect(family.configFromHf(family.configToHf(c), "again")).toEqual(c);
      const { model_type: _, ...byArchitecture } = json;
      expect(familyForHfConfig(byArchitecture).name).toBe(family.name);
    }
    const c2 = read(g2) as GemmaConfig;
    expect(c2.layerTypes).toEqual(["sliding_attention", "full_attention", "sliding_attention"]); // even layers slide
    expect([c2.attnLogitSoftcap, c2.finalLogitSoftcap, c2.queryPreAttnScalar, c2.dHead]).toEqual([2, 3, 24, 16]);
    const c3 = read(g3) as GemmaConfig;
    expect(c3.layerTypes).toEqual(["sliding_attention", "sliding_attention", "full_attention"]); // pattern 3
    expect([c3.ropeTheta, c3.ropeLocalTheta, c3.ropeLinearFactor, c3.attnLogitSoftcap]).toEqual([1e6, 1e4, 4, null]);
    // HF's defaults: Gemma 2 caps 50 / 30, Gemma 3 none and every 6th layer global
    const { attn_logit_softcapping: _a, final_logit_softcapping: _f, ...uncapped } = g2;
    const capped = read(uncapped) as GemmaConfig;
    expect([capped.attnLogitSoftcap, capped.finalLogitSoftcap]).toEqual([50, 30]);
    // the newer rope_parameters layout reads the same (per layer type for Gemma 3, one for Gemma 2)
    const { rope_theta: _t, rope_local_base_freq: _l, rope_scaling: _s, ...g3bare } = g3;
    const perType = {
      full_attention: { rope_type: "linear", factor: 4, rope_theta: 1e6 },
      sliding_attention: { rope_type: "default", rope_theta: 1e4 },
    };
    expect(read({ ...g3bare, rope_parameters: perType })).toEqual(c3);
    const { rope_theta: _t2, ...g2bare } = g2;
    expect(read({ ...g2bare, rope_parameters: { rope_type: "default", rope_theta: 1e4 } })).toEqual(c2);
    const { sliding_window_pattern: _p, ...noPattern } = g3;
    const six = read({ ...noPattern, num_hidden_layers: 7 }) as GemmaConfig;
    expect(six.layerTypes.map((t) => t[0])).toEqual(["s", "s", "s", "s", "s", "f", "s"]);
  });

  it("name a missing field the family needs; refuse what it does not support", () => {
    for (const field of ["head_dim", "query_pre_attn_scalar", "sliding_window", "num_key_value_heads", "vocab_size"]) {
      const { [field]: _, ...rest } = g2;
      expect(() => read(rest), field).toThrow(new RegExp(`missing required field "${field}"`));
    }
    expect(() => read({ model_type: "gemma3", architectures: ["Gemma3ForConditionalGeneration"] })).toThrow(
      /needs "text_config"/,
    );
    expect(() => read({ ...g2, hidden_activation: "gelu" })).toThrow(/hidden_activation "gelu"/);
    expect(() => read({ ...g2, rope_scaling: { rope_type: "linear", factor: 2 } })).toThrow(/rope_scaling.*plain RoPE/);
    expect(() => read({ ...g3, rope_scaling: { rope_type: "yarn", factor: 2 } })).toThrow(/only linear/);
    expect(() => read({ ...g3, rope_parameters: { rope_type: "dynamic", factor: 2 } })).toThrow(/rope_parameters/);
    expect(() => read({ ...g2, layer_types: ["full_attention"] })).toThrow(/"layer_types" must list/);
    expect(() => read({ ...g2, attn_logit_softcapping: -1 })).toThrow(/attn_logit_softcapping/);
    expect(() => read({ ...g2, attention_bias: true })).toThrow(/attention_bias/);
  });

  it("hook tables: TransformerLens names, Gemma's extra sites in forward order", () => {
    const g2sites = familyForHfConfig(g2).hookSites.map((s) => s.template.replace("blocks.{L}.", ""));
    const at = (t: string) => g2sites.indexOf(t);
    expect(at("attn.hook_result")).toBeLessThan(at("hook_attn_out_pre_norm"));
    expect(at("hook_attn_out_pre_norm")).toBeLessThan(at("hook_attn_out"));
    expect(at("mlp.hook_post")).toBeLessThan(at("hook_mlp_out_pre_norm"));
    expect(at("hook_mlp_out_pre_norm")).toBeLessThan(at("hook_mlp_out"));
    expect(at("attn.hook_q_normed")).toBe(-1);
    const g3sites = familyForHfConfig(g3).hookSites.map((s) => s.template.replace("blocks.{L}.", ""));
    expect(g3sites.slice(g3sites.indexOf("attn.hook_v"), g3sites.indexOf("attn.hook_rot_q"))).toEqual([
      "attn.hook_v",
      "attn.hook_q_normed",
      "attn.hook_k_normed",
    ]);
  });

  it("a random model saved as an HF folder loads back with the same config and logits (bf16)", async () => {
    useBackend("js");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gemma-save-"));
    try {
      for (const architecture of ["gemma2", "gemma3"]) {
        const opts = {
          config: {
            architecture,
            vocabSize: 40,
            dModel: 16,
            nLayers: 3,
            nHeads: 2,
            dHead: 8,
            dMlp: 24,
            slidingWindow: 2,
          },
          seed: 3,
          dtype: "bf16" as const,
        };
        const folder = await writeRandomModelFolder(path.join(dir, architecture), opts);
        const loaded = await loadModel(folder);
        const fresh = createRandomModel(opts);
        expect(loaded.config).toEqual(fresh.config);
        const ids = [[1, 5, 9, 2, 7]];
        expect(relErr(await loaded.forward(ids), await fresh.forward(ids))).toBe(0);
        loaded.close();
        fresh.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a multimodal gemma3 checkpoint loads as its text decoder (text_config over HF's defaults; both weight layouts)", async () => {
    useBackend("js");
    const fixture = path.join(ROOT, "gemma3", "gqa-tied-bf16");
    const weights = (await readSafetensors(path.join(fixture, "model.safetensors"))).tensors;
    const want = (await readSafetensors(path.join(fixture, "expected-seq11.safetensors"))).tensors;
    // what HF writes: the text_config's differences from Gemma3TextConfig's defaults (rope bases, caps, eos omitted)
    const textConfig = {
      model_type: "gemma3_text",
      vocab_size: 112,
      hidden_size: 32,
      intermediate_size: 48,
      num_hidden_layers: 3,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      head_dim: 16,
      query_pre_attn_scalar: 20,
      sliding_window: 4,
      sliding_window_pattern: 3,
      max_position_embeddings: 64,
      rope_scaling: { rope_type: "linear", factor: 4 },
    };
    const textOnly = await loadModel(fixture);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gemma3-mm-"));
    try {
      for (const prefix of ["language_model.model.", "model.language_model."]) {
        const renamed: Record<string, Tensor> = {
          "vision_tower.vision_model.embeddings.patch_embedding.weight": new Tensor("f32", [2, 3], new Float32Array(6)),
        };
        for (const [k, t] of Object.entries(weights)) renamed[prefix + k.slice("model.".length)] = t;
        fs.writeFileSync(
          path.join(dir, "config.json"),
          JSON.stringify({
            model_type: "gemma3",
            architectures: ["Gemma3ForConditionalGeneration"],
            text_config: textConfig,
            vision_config: { model_type: "siglip_vision_model" },
            eos_token_id: [1, 106],
          }),
        );
        await writeSafetensors(path.join(dir, "model.safetensors"), renamed);
        const model = await loadModel(dir);
        expect(model.config).toEqual(textOnly.config);
        expect(relErr(await model.forward(ids2d(want.input_ids!)), want.logits!), prefix).toBeLessThan(TOL);
        model.close();
      }
    } finally {
      textOnly.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
