import * as fs from "node:fs";
import { describe, expect, it } from "vitest";
import { familyForHfConfig, type LlamaConfig, ropeInvFreq } from "../src/index.ts";
import { familyEndToEnd } from "./families-llama-e2e.ts";
import {
  ablationCases,
  BROKEN,
  editedFixture,
  kvCacheCase,
  longestLogits,
  parityCases,
} from "./families-llama-parity.ts";
import { availableBackends, relErr } from "./helpers.ts";

// Fixtures: tools/reference/llama/make_fixtures.py (float64 numpy reference written from HF's documented behaviour).

describe.each(availableBackends())("Llama forward vs float64 reference (%s backend)", (backend) => {
  parityCases("llama", backend);
});

describe("Llama fixtures exercise their quirks", () => {
  ablationCases("llama");
  kvCacheCase("llama", "llama3-gqa-tied-bf16");

  it.each([
    ["llama3-gqa-tied-bf16", "llama3"],
    ["dynamic-gqa-untied-f32", "dynamic"],
    ["linear-mha-untied-bf16", "linear"],
  ])("%s: the runtime without rope_scaling (%s) misses the reference", async (name) => {
    const folder = editedFixture("llama", name, (cfg) => {
      cfg.rope_scaling = null;
      cfg.max_position_embeddings = 128; // plain RoPE must still accept the 40 tokens dynamic scaling allowed
    });
    try {
      const { ours, expected } = await longestLogits("llama", name, folder);
      expect(relErr(ours, expected)).toBeGreaterThan(BROKEN);
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });

  it("dynamic NTK: a longer max_position_embeddings (no growth at seq 40) misses; the fixture's own matches", async () => {
    const folder = editedFixture("llama", "dynamic-gqa-untied-f32", (cfg) => {
      cfg.max_position_embeddings = 64;
    });
    try {
      const { ours, expected } = await longestLogits("llama", "dynamic-gqa-untied-f32", folder);
      expect(relErr(ours, expected)).toBeGreaterThan(BROKEN);
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe("Llama configs", () => {
  const base = {
    model_type: "llama",
    vocab_size: 64,
    hidden_size: 32,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    intermediate_size: 48,
  };
  const read = (extra: Record<string, unknown>) => {
    const json = { ...base, ...extra };
    return familyForHfConfig(json, "config.json").configFromHf(json, "config.json");
  };

  it("reads Llama 3.2-style and Mistral configs; round-trips through configToHf", () => {
    const c = read({
      rope_theta: 500000,
      head_dim: 16,
      tie_word_embeddings: true,
      rope_scaling: {
        rope_type: "llama3",
        factor: 32,
        low_freq_factor: 1,
        high_freq_factor: 4,
        original_max_position_embeddings: 8192,
      },
    });
    expect(c).toMatchObject({ architecture: "llama", dHead: 16, nKvHeads: 2, tieWordEmbeddings: true });
    const family = familyForHfConfig(base, "config.json");
    expect(family.configFromHf(family.configToHf(c), "again")).toEqual(c);
    const mistral = read({ model_type: "mistral", architectures: ["MistralForCausalLM"], sliding_window: null });
    expect(family.configToHf(mistral).model_type).toBe("mistral");
    expect(familyForHfConfig({ architectures: ["LlamaForCausalLM"] }, "c").name).toBe("llama");
    // dynamic NTK runs past max_position_embeddings: ours accepts M · factor and writes M back
    const dynamic = read({ max_position_embeddings: 32, rope_scaling: { type: "dynamic", factor: 2 } });
    expect(dynamic.maxPositions).toBe(64);
    expect(family.configToHf(dynamic).max_position_embeddings).toBe(32);
    expect(family.configFromHf(family.configToHf(dynamic), "again")).toEqual(dynamic);
  });

  it("reads a Llama-3.2-1B-style config.json (llama3 scaling, head_dim, eos list, tied)", () => {
    const json = {
      architectures: ["LlamaForCausalLM"],
      attention_bias: false,
      bos_token_id: 128000,
      eos_token_id: [128001, 128008, 128009],
      head_dim: 64,
      hidden_act: "silu",
      hidden_size: 2048,
      intermediate_size: 8192,
      max_position_embeddings: 131072,
      mlp_bias: false,
      model_type: "llama",
      num_attention_heads: 32,
      num_hidden_layers: 16,
      num_key_value_heads: 8,
      pretraining_tp: 1,
      rms_norm_eps: 1e-5,
      rope_scaling: {
        factor: 32.0,
        high_freq_factor: 4.0,
        low_freq_factor: 1.0,
        original_max_position_embeddings: 8192,
        rope_type: "llama3",
      },
      rope_theta: 500000.0,
      tie_word_embeddings: true,
      torch_dtype: "bfloat16",
      vocab_size: 128256,
    };
    const c = familyForHfConfig(json, "config.json").configFromHf(json, "config.json");
    expect(c).toMatchObject({ nKvHeads: 8, dHead: 64, maxPositions: 131072, eosTokenIds: [128001, 128008, 128009] });
    // llama3: the fastest pairs keep θ^(−2i/d), the slowest are divided by the factor
    const inv = ropeInvFreq(500000, 64, (c as LlamaConfig).ropeScaling, 10)!;
    expect(inv[0]).toBeCloseTo(1, 6);
    expect(inv[31]! / 500000 ** (-62 / 64)).toBeCloseTo(1 / 32, 6);
  });

  it("names the missing or unsupported field", () => {
    expect(() => read({ hidden_size: undefined })).toThrow(/"hidden_size"/);
    expect(() => read({ rope_scaling: { rope_type: "llama3", factor: 8, high_freq_factor: 4 } })).toThrow(
      /low_freq_factor/,
    );
    expect(() => read({ rope_scaling: { rope_type: "yarn", factor: 4 } })).toThrow(/"yarn".*linear, dynamic, llama3/);
    expect(() => read({ attention_bias: true })).toThrow(/attention_bias/);
    expect(() => read({ mlp_bias: true })).toThrow(/mlp_bias/);
    expect(() => read({ hidden_act: "gelu" })).toThrow(/hidden_act/);
    expect(() => read({ model_type: "mistral", sliding_window: 16, max_position_embeddings: 64 })).toThrow(
      /sliding_window/,
    );
  });
});

describe("Llama end to end", () => {
  it("toy Llama (GQA, llama3 RoPE) → harvest → SAE steps → logit-lens readouts; save and reload", async () => {
    await familyEndToEnd({
      architecture: "llama",
      vocabSize: 64,
      dModel: 32,
      nLayers: 2,
      nHeads: 4,
      nKvHeads: 2,
      dMlp: 48,
      ropeTheta: 500000,
      ropeScaling: { type: "llama3", factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 32 },
    });
  });
});
