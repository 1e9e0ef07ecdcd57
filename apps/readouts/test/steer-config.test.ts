/** The steer config: defaults, every intervention form, and one-line errors that name the field (exit 2 codes). */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { resolveSteerConfig } from "../src/steer/steer-config.ts";
import { steerPrompts } from "../src/steer/steer-prompts.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "steer-config-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const minimal = {
  model: "m",
  prompts: ["Hello there."],
  saes: { "3": "sae3" },
  interventions: [{ kind: "clamp", layer: 3, latent: 7 }],
};

describe("steer config", () => {
  it("fills the defaults and resolves paths from the config's folder", () => {
    const c = resolveSteerConfig(minimal, dir);
    expect(c.model).toEqual({ path: path.join(dir, "m"), adapter: null });
    expect(c.reference).toBeNull();
    expect(c.conditionLabel).toBe("model-default");
    expect(c.saes[3]).toBe(path.join(dir, "sae3"));
    expect(c.hook).toBe("blocks.{layer}.hook_resid_post");
    expect(c.interventions[0]).toEqual({
      kind: "clamp",
      sae: { layer: 3 },
      hook: null,
      layer: 3,
      latents: [7],
      value: 0,
    });
    expect(c.positions).toBe("all");
    expect(c.targets).toEqual(["<|im_end|>"]);
    expect(c.generate).toEqual({ maxNewTokens: 24, temperature: 0, seed: 0 });
    expect(c.minKlDrop).toBeNull();
  });

  it("reads add interventions: an SAE row, a diffing stage's ranked latent, a direction file; positions forms", () => {
    const c = resolveSteerConfig(
      {
        ...minimal,
        reference: { path: "chat", adapter: "lora" },
        condition: "custom:Be brief.",
        interventions: [
          { kind: "add", layer: 3, latent: 2, alpha: 4 },
          { kind: "add", sae: "run/stages/MF", latent: { compareRank: 1 }, alphas: [0, 1, 2] },
          { kind: "add", hook: "blocks.1.hook_resid_pre", directionFile: "d.npy", alpha: -1 },
          { kind: "clamp", layer: 3, latent: [1, 2], value: 5 },
        ],
        positions: "from:user:content",
        generate: { maxNewTokens: 5, temperature: 0.7, seed: 3 },
      },
      dir,
    );
    expect(c.reference).toEqual({ path: path.join(dir, "chat"), adapter: path.join(dir, "lora") });
    expect(c.interventions.map((it) => (it.kind === "add" ? it.alphas : it.value))).toEqual([[4], [0, 1, 2], [-1], 5]);
    expect(c.interventions[1]).toMatchObject({
      direction: { sae: { folder: path.join(dir, "run/stages/MF") }, latent: { compareRank: 1 } },
    });
    expect(c.interventions[2]).toMatchObject({ direction: { file: path.join(dir, "d.npy") } });
    expect(c.positions).toEqual({ fromRegion: { role: "user", kind: "content" } });
    expect(c.generate.temperature).toBe(0.7);
    expect(resolveSteerConfig({ ...minimal, positions: "generated" }, dir).positions).toBe("generated");
  });

  const bad: Array<[string, Record<string, unknown>, RegExp]> = [
    ["unknown key", { ...minimal, interventons: [] }, /unknown key "interventons".*interventions/],
    [
      "unknown intervention key",
      { ...minimal, interventions: [{ kind: "clamp", layer: 3, latnt: 1 }] },
      /latnt.*latent/,
    ],
    [
      "layer without an SAE",
      { ...minimal, interventions: [{ kind: "clamp", layer: 9, latent: 1 }] },
      /interventions\[0\]\.layer: no SAE for layer 9/,
    ],
    [
      "bad kind",
      { ...minimal, interventions: [{ kind: "steer", layer: 3 }] },
      /interventions\[0\]\.kind: expected "clamp" or "add"/,
    ],
    [
      "add without alpha",
      { ...minimal, interventions: [{ kind: "add", layer: 3, latent: 1 }] },
      /give "alpha" or "alphas"/,
    ],
    [
      "two sweeps",
      {
        ...minimal,
        interventions: [
          { kind: "add", layer: 3, latent: 1, alphas: [1, 2] },
          { kind: "add", layer: 3, latent: 2, alphas: [1, 2] },
        ],
      },
      /at most one intervention may sweep/,
    ],
    [
      "latent and file",
      { ...minimal, interventions: [{ kind: "add", layer: 3, latent: 1, directionFile: "d.json", alpha: 1 }] },
      /exactly one/,
    ],
    [
      "bad latent",
      { ...minimal, interventions: [{ kind: "clamp", layer: 3, latent: -1 }] },
      /latent: expected a latent index/,
    ],
    ["bad condition", { ...minimal, condition: "defualt" }, /steer\.condition: expected "model-default"/],
    ["bad positions", { ...minimal, positions: "from:user:body" }, /steer\.positions: expected "all", "generated"/],
    [
      "greedy and temperature",
      { ...minimal, generate: { greedy: true, temperature: 1 } },
      /greedy: true with temperature/,
    ],
    ["a check without a reference", { ...minimal, minKlDrop: 0.5 }, /steer\.minKlDrop: the check needs a reference/],
    ["no prompts", { ...minimal, prompts: [] }, /steer\.prompts: expected "builtin", a JSONL file/],
  ];
  it.each(bad)("rejects %s in one line naming the field", (_name, raw, message) => {
    let error: unknown;
    try {
      resolveSteerConfig(raw, dir, path.join(dir, "steer.json"));
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain("\n");
    expect(["CONFIG_INVALID", "CONFIG_UNKNOWN_KEY"]).toContain((error as { code: string }).code);
  });

  it("reads a prompt file and names the line of a malformed one", () => {
    const file = path.join(dir, "prompts.jsonl");
    fs.writeFileSync(file, '{"id": "a", "text": "One."}\n\n{"id": "b", "text": "Two."}\n');
    expect(steerPrompts(resolveSteerConfig({ ...minimal, prompts: "prompts.jsonl" }, dir))).toEqual([
      { id: "a", text: "One." },
      { id: "b", text: "Two." },
    ]);
    fs.writeFileSync(file, '{"id": "a", "text": "One."}\n{"id": "a", "txt": "Two."}\n');
    expect(() => steerPrompts(resolveSteerConfig({ ...minimal, prompts: "prompts.jsonl" }, dir))).toThrow(
      /prompts\.jsonl:2: expected \{"id"/,
    );
  });
});
