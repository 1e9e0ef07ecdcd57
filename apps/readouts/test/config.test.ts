import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { loadSaeConditionsConfig, resolveSaeConditionsConfig } from "../src/sae-conditions/config.ts";

const base = { model: "/m", saes: { "7": "/s7", "11": "/s11", "15": "/s15" } };
const resolve = (patch: Record<string, unknown> = {}) =>
  resolveSaeConditionsConfig({ ...base, ...patch }, "/cfg", "/cfg/c.json");

describe("sae-conditions config", () => {
  it("defaults: the seed's four conditions, layers from saes, last-prompt-token, threshold encode, max-T", () => {
    const c = resolve();
    expect(c.conditions.map((x) => x.label)).toEqual([
      "model-default",
      "custom:You are a helpful assistant.",
      "empty",
      "no-system-turn",
    ]);
    expect(c.conditions[1]!.condition).toEqual({ kind: "custom", text: "You are a helpful assistant." });
    expect(c.layers).toEqual([7, 11, 15]);
    expect(c.positions).toEqual([{ kind: "last-prompt-token" }]);
    expect(c.encodeRule).toBe("threshold");
    expect(c.hook).toBe("blocks.{layer}.hook_resid_post");
    expect(c.trackB).toMatchObject({ nPermutations: 1000, alpha: 0.001, rule: "max-t", top: 20 });
    expect(c.trackB.pairs).toHaveLength(6);
    expect(c.trackA).toBeNull();
    expect(c.prompts).toBe("builtin");
    expect(c.wandb.mode).toBe("offline");
    expect(Object.isFrozen(c.trackB)).toBe(true);
  });

  it("labelled conditions, saeTemplate, regions and Track A pairs", () => {
    const c = resolveSaeConditionsConfig(
      {
        model: { base: "m", adapter: "a" },
        saeTemplate: "saes/resid_post_layer_{layer}/trainer_1",
        layers: [3],
        conditions: [
          { label: "C1", condition: "model-default" },
          { label: "C2", condition: "custom:Hi." },
        ],
        position: "all:user:content",
        trackA: { latents: { "3": [1, 2] } },
      },
      "/cfg",
    );
    expect(c.saes[3]).toBe("/cfg/saes/resid_post_layer_3/trainer_1");
    expect(c.model).toEqual({ path: "/cfg/m", adapter: "/cfg/a" });
    expect(c.positions).toEqual([{ kind: "all", region: { role: "user", regionKind: "content" } }]);
    expect(c.trackA!.pairs).toEqual([["C1", "C2"]]);
    expect(c.trackA!.nNull).toBe(1000);
  });

  it("position as a list: every readout of one forward pass", () => {
    const c = resolve({ position: ["last-prompt-token", "all:user:content"] });
    expect(c.positions).toEqual([
      { kind: "last-prompt-token" },
      { kind: "all", region: { role: "user", regionKind: "content" } },
    ]);
  });

  it.each([
    [{ positon: "last-prompt-token" }, /unknown key "positon" in config — did you mean "position"\?/],
    [{ trackB: { nPermutation: 10 } }, /unknown key "nPermutation" in trackB — did you mean "nPermutations"\?/],
    [{ position: "middle" }, /position: expected last-prompt-token \| last-system-token/],
    [{ position: "mean:user:contents" }, /position: expected/],
    [
      { position: ["last-prompt-token", "last-prompt-token"] },
      /position: expected a position string or a non-empty list of distinct/,
    ],
    [{ position: ["last-prompt-token", "mean:x"] }, /position\[1\]: expected last-prompt-token/],
    [{ conditions: ["model-default", "model-default"] }, /conditions\[1\]: label "model-default" is not unique/],
    [{ conditions: ["model-default", "sytem:x"] }, /conditions\[1\]: expected "model-default" \| "custom:<text>"/],
    [
      { trackA: { latents: { "15": [1] }, pairs: [["model-default", "empy"]] } },
      /trackA\.pairs\[0\]\[1\]: unknown condition label "empy" — did you mean "empty"\?/,
    ],
    [{ trackA: { latents: { "9": [1] } } }, /trackA\.latents\.9: layer 9 is not in layers/],
    [{ layers: [7, 8] }, /saes: no SAE for layer 8/],
    [{ encodeRule: "top-k" }, /encodeRule: expected one of "threshold", "topk"/],
    [{ behaviour: { pair: ["empty", "model-default"] } }, /behaviour\.scores is required/],
    [{ trackB: { alpha: 2 } }, /trackB\.alpha: expected a number ≥ 0 ≤ 1/],
  ])("rejects %j naming the field and what was expected", (patch, message) => {
    expect(() => resolve(patch)).toThrow(message);
  });
});

describe("the real config", () => {
  it("configs/readouts/qwen2.5-7b-sae-conditions.json resolves: the seed's layers, SAEs, Track A latents", () => {
    const file = path.resolve(__dirname, "../../../configs/readouts/qwen2.5-7b-sae-conditions.json");
    const c = loadSaeConditionsConfig(file);
    expect(c.layers).toEqual([7, 11, 15]);
    expect(c.saes[15]).toMatch(/resid_post_layer_15\/trainer_1$/);
    expect(c.trackA!.latents[15]).toHaveLength(10);
    expect(c.trackA!.pairs).toEqual([["qwen-default", "generic-assistant"]]);
    expect(c.model.path).toBe("Qwen/Qwen2.5-7B-Instruct");
  });
});
