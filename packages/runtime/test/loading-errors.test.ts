import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readSafetensors, Tensor, useBackend, writeSafetensors } from "@difflens/tensor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main as forwardCli } from "../src/cli/forward.ts";
import {
  CheckpointError,
  ConfigError,
  createRandomQwen2,
  harvest,
  InputError,
  loadModel,
  qwen2ConfigFromHf,
  resolveQwen2Config,
  saveModelFolder,
  writeRandomQwen2Folder,
} from "../src/index.ts";
import { FIXTURES, relErr } from "./helpers.ts";

let tmp: string;
beforeAll(() => {
  useBackend("js");
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "difflens-runtime-"));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const baseHf = JSON.parse(fs.readFileSync(path.join(FIXTURES, "gqa-tied-bf16", "config.json"), "utf8")) as Record<
  string,
  unknown
>;
const cfg = { vocabSize: 40, dModel: 16, nLayers: 2, nHeads: 4, nKvHeads: 2, dMlp: 24, maxPositions: 32 };

describe("config validation", () => {
  it.each([
    ["missing field", { ...baseHf, hidden_size: undefined }, "CONFIG_MISSING_FIELD", /hidden_size/],
    [
      "heads not a multiple of kv heads",
      { ...baseHf, num_key_value_heads: 3 },
      "CONFIG_CONTRADICTION",
      /multiple of num_key_value_heads/,
    ],
    [
      "hidden not divisible by heads",
      { ...baseHf, num_attention_heads: 5, num_key_value_heads: 5 },
      "CONFIG_CONTRADICTION",
      /not divisible/,
    ],
    ["other architecture", { ...baseHf, model_type: "llama" }, "UNSUPPORTED_ARCHITECTURE", /llama/],
    ["wrong activation", { ...baseHf, hidden_act: "gelu" }, "CONFIG_CONTRADICTION", /silu/],
    ["negative eps", { ...baseHf, rms_norm_eps: -1 }, "CONFIG_INVALID_FIELD", /rms_norm_eps/],
    ["eos outside vocab", { ...baseHf, eos_token_id: 500 }, "CONFIG_CONTRADICTION", /vocabulary/],
  ])("%s", (_, json, code, message) => {
    const run = () => qwen2ConfigFromHf(JSON.parse(JSON.stringify(json)), "x/config.json");
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(message);
    try {
      run();
    } catch (e) {
      expect((e as ConfigError).code).toBe(code);
    }
  });
  it("our config rejects unknown keys with the nearest, defaults the rest, never mutates", () => {
    expect(() => resolveQwen2Config({ ...cfg, nKvHead: 2 })).toThrow(/did you mean "nKvHeads"/);
    const input = { ...cfg };
    const c = resolveQwen2Config(input);
    expect(c.dHead).toBe(4);
    expect(c.ropeTheta).toBe(10000);
    expect(input).toEqual(cfg);
    expect(Object.isFrozen(c)).toBe(true);
  });
});

describe("loading", () => {
  it("a saved random model reloads identically; shards and Hub cache snapshots load too", async () => {
    const model = createRandomQwen2({ config: cfg, seed: 11, dtype: "bf16" });
    const want = await model.forward([1, 2, 3, 4]);
    const single = path.join(tmp, "single");
    await saveModelFolder(model, single);
    expect(relErr(await (await loadModel(single)).forward([1, 2, 3, 4]), want)).toBe(0);
    const sharded = path.join(tmp, "sharded");
    await saveModelFolder(model, sharded, { maxShardBytes: 4000 });
    expect(fs.existsSync(path.join(sharded, "model.safetensors.index.json"))).toBe(true);
    const loaded = await loadModel(sharded);
    expect(loaded.dtype).toBe("bf16");
    expect(relErr(await loaded.forward([1, 2, 3, 4]), want)).toBe(0);
    // Hub cache layout: models--ORG--NAME/{refs/main, snapshots/<commit>/…}
    const repo = path.join(tmp, "hub", "models--org--tiny");
    const commit = "0123456789abcdef0123456789abcdef01234567";
    fs.mkdirSync(path.join(repo, "refs"), { recursive: true });
    fs.writeFileSync(path.join(repo, "refs", "main"), commit);
    fs.cpSync(single, path.join(repo, "snapshots", commit), { recursive: true });
    expect(relErr(await (await loadModel(repo)).forward([1, 2, 3, 4]), want)).toBe(0);
    expect(
      relErr(await (await loadModel("org/tiny", { cacheDir: path.join(tmp, "hub") })).forward([1, 2, 3, 4]), want),
    ).toBe(0);
    await expect(loadModel("org/absent", { cacheDir: path.join(tmp, "hub") })).rejects.toThrow(/not in the Hub cache/);
  });
  it("a missing weight or a wrong shape names the tensor, expected and actual", async () => {
    const dir = await writeRandomQwen2Folder(path.join(tmp, "broken"), { config: cfg, seed: 1 });
    const { tensors } = await readSafetensors(path.join(dir, "model.safetensors"));
    const missing = { ...tensors };
    delete missing["model.layers.1.mlp.up_proj.weight"];
    await writeSafetensors(path.join(dir, "model.safetensors"), missing);
    await expect(loadModel(dir)).rejects.toThrow(
      /missing weight "model.layers.1.mlp.up_proj.weight" \(expected shape \[24, 16\]\)/,
    );
    const wrong = {
      ...tensors,
      "model.layers.0.self_attn.k_proj.weight": new Tensor("f32", [16, 16], new Float32Array(256)),
    };
    await writeSafetensors(path.join(dir, "model.safetensors"), wrong);
    const err = await loadModel(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as CheckpointError).code).toBe("WEIGHT_SHAPE");
    expect((err as Error).message).toMatch(
      /"model.layers.0.self_attn.k_proj.weight" has shape \[16, 16\], expected \[8, 16\]/,
    );
  });
  it("bad inputs fail before compute", async () => {
    const model = createRandomQwen2({ config: cfg, seed: 2 });
    await expect(model.forward([1, 40])).rejects.toThrow(InputError);
    await expect(model.forward([1, 40])).rejects.toThrow(/token id 40 .* outside the vocabulary \[0, 40\)/);
    await expect(model.forward(new Array(33).fill(1))).rejects.toThrow(/max_position_embeddings 32/);
    await expect(model.forward([])).rejects.toThrow(/empty/);
    await expect(model.forward([[1, 2], [3]])).rejects.toThrow(/leftPad/);
  });
});

describe("random model scales, harvest, CLI", () => {
  it("activations stay O(1) through 8 layers (no explosion or collapse)", async () => {
    const deep = createRandomQwen2({
      config: { vocabSize: 64, dModel: 64, nLayers: 8, nHeads: 4, dMlp: 128 },
      seed: 5,
    });
    const names = Array.from({ length: 8 }, (_, L) => `blocks.${L}.hook_resid_post`);
    const { logits, cache } = await deep.runWithCache(
      Array.from({ length: 32 }, (_, i) => (i * 7) % 64),
      { names },
    );
    const rms = (t: Tensor) => Math.sqrt(Array.from(t.data as Float32Array).reduce((s, x) => s + x * x, 0) / t.size);
    for (const n of names) {
      expect(rms(cache.get(n))).toBeGreaterThan(0.3);
      expect(rms(cache.get(n))).toBeLessThan(5);
    }
    expect(rms(logits!)).toBeGreaterThan(0.5);
    expect(rms(logits!)).toBeLessThan(10);
  });
  it("harvest yields only unmasked rows, equal to runToHook's", async () => {
    const model = createRandomQwen2({ config: cfg, seed: 4 });
    const src = harvest(model, "blocks.1.hook_resid_pre", [
      {
        ids: [
          [0, 5, 6, 7],
          [1, 2, 3, 4],
        ],
        attentionMask: [
          [0, 1, 1, 1],
          [1, 1, 1, 1],
        ],
        keepMask: [
          [1, 1, 1, 1],
          [0, 1, 1, 1],
        ],
      },
    ]);
    expect(src.dIn).toBe(16);
    const out: Tensor[] = [];
    for await (const t of src) out.push(t);
    expect(out[0]!.shape).toEqual([6, 16]);
    const alone = await model.runToHook([5, 6, 7], "blocks.1.hook_resid_pre");
    expect(relErr(out[0]!.data.subarray(0, 48) as Float32Array, alone)).toBeLessThan(1e-5);
  });
  it("difflens-forward writes logits and hooks with a batch dimension of 1", async () => {
    const out = path.join(tmp, "fw.safetensors");
    const code = await forwardCli([
      "--model",
      path.join(FIXTURES, "gqa-tied-bf16"),
      "--tokens",
      "1,2,3",
      "--hooks",
      "blocks.0.hook_resid_post,blocks.1.attn.hook_pattern",
      "--out",
      out,
      "--backend",
      "js",
    ]);
    expect(code).toBe(0);
    const { tensors } = await readSafetensors(out);
    expect(tensors.logits!.shape).toEqual([1, 3, 96]);
    expect(tensors["blocks.0.hook_resid_post"]!.shape).toEqual([1, 3, 32]);
    expect(tensors["blocks.1.attn.hook_pattern"]!.shape).toEqual([1, 4, 3, 3]);
  });
  // Uses the Qwen tokenizer fixture of @difflens/tokenizer (11 MB, not duplicated here); skipped if it moves.
  const qwenTokenizer = path.join(FIXTURES, "..", "..", "..", "..", "tokenizer", "test", "fixtures", "qwen");
  it.skipIf(!fs.existsSync(path.join(qwenTokenizer, "tokenizer.json")))(
    "difflens-forward --text renders the chat template and tokenizes",
    async () => {
      const dir = await writeRandomQwen2Folder(path.join(tmp, "text-model"), {
        config: { vocabSize: 151936, dModel: 8, nLayers: 1, nHeads: 2, dMlp: 8 },
        seed: 1,
        tokenizerFrom: qwenTokenizer,
      });
      const out = path.join(tmp, "text.safetensors");
      expect(
        await forwardCli([
          "--model",
          dir,
          "--text",
          "Hello there",
          "--condition",
          "custom:Be brief.",
          "--out",
          out,
          "--backend",
          "js",
        ]),
      ).toBe(0);
      const ids = Array.from((await readSafetensors(out)).tensors.input_ids!.data as Int32Array);
      expect(ids[0]).toBe(151644); // <|im_start|>
      expect(ids.slice(-3)).toEqual([151644, 77091, 198]); // <|im_start|>assistant\n
      expect(ids.filter((x) => x === 151644)).toHaveLength(3); // system, user, assistant turns
    },
  );
});
