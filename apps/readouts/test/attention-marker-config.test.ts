/** The attention-marker config (defaults, nearest-key errors naming file and field), trial seeds and the marker id. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { qwenTokenizerFile } from "@difflens/app-kit";
import { loadTokenizer } from "@difflens/tokenizer";
import { afterAll, describe, expect, it } from "vitest";
import { configJson, loadAttentionMarkerConfig, resolveAttentionMarkerConfig } from "../src/attention-marker/config.ts";
import { resolveMarkerId } from "../src/attention-marker/marker-token.ts";
import { fnv1a32, trialSeed } from "../src/attention-marker/trial-seed.ts";
import { REPO_ROOT } from "../src/cli/repo-paths.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "am-config-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const persona = (name: string, model: unknown = "ckpt/librarian/final") => ({
  name,
  systemPrompt: `You are a ${name}.`,
  model,
});
const minimal = { personas: [persona("librarian"), persona("villain", { base: "Org/Base", adapter: "lora/villain" })] };

function errorOf(f: () => unknown): { code: string; message: string; facts: Record<string, unknown> } {
  try {
    f();
  } catch (e) {
    return e as never;
  }
  throw new Error("expected an error");
}

describe("resolveAttentionMarkerConfig", () => {
  it("fills the seed's defaults and resolves model refs ({base, adapter} merges a PEFT adapter)", () => {
    const c = resolveAttentionMarkerConfig(minimal, dir);
    expect(c.generation).toEqual({ temperature: 1, topP: 0.95, topK: 0, maxNewTokens: 256, batchSize: 8 });
    expect(c).toMatchObject({ marker: "[ZLT]", attempts: 200, runSeeds: [42], questions: "builtin", comparator: null });
    expect(c.forceFeed).toEqual([]); // no comparator → no force-feed
    expect(c.readout).toEqual({
      offset: 0,
      layers: "all",
      specials: ["<|im_start|>", "<|im_end|>", "<|endoftext|>", "\n", "\n\n"],
      partitionTolerance: 0.005,
      batchSize: 4,
    });
    expect(c.gates).toEqual({ directionThreshold: 0.7, alpha: 0.05 });
    expect(c.personas[0]!.model).toEqual({ path: path.join(dir, "ckpt/librarian/final"), adapter: null });
    expect(c.personas[1]!.model).toEqual({ path: "Org/Base", adapter: path.join(dir, "lora/villain") });
    const withComparator = resolveAttentionMarkerConfig({ ...minimal, comparator: "Org/Base" }, dir);
    expect(withComparator.forceFeed).toEqual(["librarian", "villain"]);
  });

  it("round-trips through the run folder's config.json (absolute paths)", () => {
    const c = resolveAttentionMarkerConfig({ ...minimal, comparator: "Org/Base", questions: "q.jsonl" }, dir);
    const again = resolveAttentionMarkerConfig(JSON.parse(JSON.stringify(configJson(c))), "/elsewhere");
    expect(again).toEqual(c);
  });

  it("rejects an unknown key with the nearest valid one, at any depth", () => {
    const top = errorOf(() => resolveAttentionMarkerConfig({ ...minimal, attempt: 5 }, dir));
    expect(top.code).toBe("CONFIG_UNKNOWN_KEY");
    expect(top.message).toMatch(/unknown key "attempt" in config — did you mean "attempts"\?/);
    const nested = errorOf(() => resolveAttentionMarkerConfig({ ...minimal, generation: { temprature: 1 } }, dir));
    expect(nested.message).toMatch(/"temprature" in generation — did you mean "temperature"\?/);
    const inPersona = errorOf(() =>
      resolveAttentionMarkerConfig({ personas: [{ ...persona("a"), sytemPrompt: "x" }] }, dir),
    );
    expect(inPersona.message).toMatch(/in personas\[0\] — did you mean "systemPrompt"\?/);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ["no personas", { personas: [] }, /config\.personas: expected a non-empty list/],
    ["duplicate persona", { personas: [persona("a"), persona("a")] }, /personas\[1\]\.name: "a" appears twice/],
    ["persona name not a file name", { personas: [persona("a b")] }, /personas\[0\]\.name: expected letters, digits/],
    ["no system prompt", { personas: [{ name: "a", model: "m" }] }, /personas\[0\]\.systemPrompt is required/],
    ["no model", { personas: [{ name: "a", systemPrompt: "x" }] }, /personas\[0\]\.model: expected a model folder/],
    [
      "forceFeed names no persona",
      { ...minimal, comparator: "B", forceFeed: ["librarain"] },
      /forceFeed\[0\]: "librarain" is not a persona — did you mean "librarian"\?/,
    ],
    [
      "empty runSeeds",
      { ...minimal, runSeeds: [] },
      /config\.runSeeds: expected a non-empty list of distinct integer seeds/,
    ],
    ["non-integer run seed", { ...minimal, runSeeds: [1, 1.5] }, /config\.runSeeds: expected/],
    [
      "negative temperature",
      { ...minimal, generation: { temperature: -1 } },
      /generation\.temperature: expected a number ≥ 0, got -1/,
    ],
    ["topP above 1", { ...minimal, generation: { topP: 1.5 } }, /generation\.topP: expected a number/],
    ["zero attempts", { ...minimal, attempts: 0 }, /config\.attempts: expected an integer ≥ 1, got 0/],
    [
      "repeated layers",
      { ...minimal, readout: { layers: [1, 1] } },
      /readout\.layers: expected "all" or distinct layer indices/,
    ],
    ["empty marker", { ...minimal, marker: "" }, /config\.marker: expected a non-empty string/],
    ["unknown wandb mode", { ...minimal, wandb: { mode: "ofline" } }, /wandb\.mode: .*did you mean "offline"/],
  ])("names the field and what was expected: %s", (_label, raw, message) => {
    const e = errorOf(() => resolveAttentionMarkerConfig(raw, dir));
    expect(e.code).toBe("CONFIG_INVALID");
    expect(e.message).toMatch(message);
  });

  it("names the file in every error (loadAttentionMarkerConfig)", () => {
    const file = path.join(dir, "bad.json");
    fs.writeFileSync(file, JSON.stringify({ ...minimal, runSeeds: "42" }));
    const e = errorOf(() => loadAttentionMarkerConfig(file));
    expect(e.message.startsWith(`${file}: `)).toBe(true);
    expect(e.facts.file).toBe(file);
    expect(errorOf(() => loadAttentionMarkerConfig(path.join(dir, "none.json"))).code).toBe("CONFIG_NOT_FOUND");
  });

  it("resolves the seed's real config (configs/readouts/qwen2.5-7b-attention-marker.json)", () => {
    const c = loadAttentionMarkerConfig(path.join(REPO_ROOT, "configs/readouts/qwen2.5-7b-attention-marker.json"));
    expect(c.personas.map((p) => p.name)).toEqual(["librarian", "comedian", "villain", "software_engineer"]);
    expect(c.comparator).toEqual({ path: "Qwen/Qwen2.5-7B-Instruct", adapter: null });
    expect(c.forceFeed).toHaveLength(4);
    expect(c).toMatchObject({ attempts: 200, runSeeds: [42], marker: "[ZLT]" });
    expect(c.generation).toMatchObject({ temperature: 1, topP: 0.95, maxNewTokens: 256 });
  });
});

describe("trialSeed: FNV-1a 32-bit over the UTF-8 of runSeed NUL trial NUL question", () => {
  it("matches FNV-1a's published values and fixed known seeds", () => {
    const bytes = (s: string) => new TextEncoder().encode(s);
    expect(fnv1a32(bytes(""))).toBe(0x811c9dc5);
    expect(fnv1a32(bytes("a"))).toBe(0xe40c292c);
    expect(fnv1a32(bytes("foobar"))).toBe(0xbf9cf968);
    // Python: h = 0x811c9dc5; for b in s.encode(): h = ((h ^ b) * 0x01000193) & 0xffffffff
    expect(trialSeed(42, 0, "What is the best way to learn a new language?")).toBe(4075473564);
    expect(trialSeed(7, 13, "Café?")).toBe(688870261);
    expect(trialSeed(42, 1, "What is the best way to learn a new language?")).not.toBe(4075473564);
  });
});

describe("resolveMarkerId (the real Qwen tokenizer; refusals in attention-marker-bad-input)", () => {
  it("[ZLT] → [Z = 85113", async () => {
    const tokenizer = loadTokenizer(path.dirname(qwenTokenizerFile()));
    expect(await resolveMarkerId(tokenizer, "[ZLT]")).toBe(85113);
  });
});
