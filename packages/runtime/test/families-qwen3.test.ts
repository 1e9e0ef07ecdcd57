import * as fs from "node:fs";
import { describe, expect, it } from "vitest";
import { familyForHfConfig, hookNames } from "../src/index.ts";
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

// Fixtures: tools/reference/qwen3/make_fixtures.py (float64 numpy reference written from HF's documented behaviour).

describe.each(availableBackends())("Qwen3 forward vs float64 reference (%s backend)", (backend) => {
  parityCases("qwen3", backend);
});

describe("Qwen3 fixtures exercise their quirks", () => {
  ablationCases("qwen3");
  kvCacheCase("qwen3", "gqa-tied-bf16");

  it("the same weights read as Llama (no q/k norms) miss the reference", async () => {
    const folder = editedFixture("qwen3", "gqa-tied-bf16", (cfg) => {
      cfg.model_type = "llama";
      cfg.architectures = ["LlamaForCausalLM"];
    });
    try {
      const { ours, expected } = await longestLogits("qwen3", "gqa-tied-bf16", folder);
      expect(relErr(ours, expected)).toBeGreaterThan(BROKEN);
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe("Qwen3 configs and hooks", () => {
  const base = {
    model_type: "qwen3",
    vocab_size: 64,
    hidden_size: 32,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    intermediate_size: 48,
  };
  const family = familyForHfConfig(base, "config.json");
  const read = (extra: Record<string, unknown>) => family.configFromHf({ ...base, ...extra }, "config.json");

  it("head_dim defaults to 128 as HF's Qwen3Config does; round-trips through configToHf", () => {
    expect(family.name).toBe("qwen3");
    const c = read({});
    expect(c.dHead).toBe(128);
    expect(family.configFromHf(family.configToHf(c), "again")).toEqual(c);
  });

  it("names the normed q/k hooks between hook_v and hook_rot_q", () => {
    const names = hookNames(read({ head_dim: 8 })).filter((n) => n.startsWith("blocks.0.attn."));
    const at = (n: string) => names.indexOf(`blocks.0.attn.${n}`);
    expect(at("hook_q_normed")).toBeGreaterThan(at("hook_v"));
    expect(at("hook_k_normed")).toBeGreaterThan(at("hook_q_normed"));
    expect(at("hook_rot_q")).toBeGreaterThan(at("hook_k_normed"));
  });

  it("refuses what it does not compute, naming the field", () => {
    expect(() => read({ attention_bias: true })).toThrow(/attention_bias/);
    expect(() => read({ use_sliding_window: true, sliding_window: 16 })).toThrow(/sliding_window/);
    expect(() => read({ rope_scaling: { rope_type: "yarn", factor: 4 } })).toThrow(/yarn/);
    expect(() => read({ num_attention_heads: undefined })).toThrow(/"num_attention_heads"/);
  });
});

describe("Qwen3 end to end", () => {
  it("toy Qwen3 (q/k norms, head_dim ≠ dModel/nHeads) → harvest → SAE steps → logit-lens readouts; save and reload", async () => {
    await familyEndToEnd({
      architecture: "qwen3",
      vocabSize: 64,
      dModel: 32,
      nLayers: 2,
      nHeads: 4,
      nKvHeads: 2,
      dHead: 16,
      dMlp: 48,
    });
  });
});
