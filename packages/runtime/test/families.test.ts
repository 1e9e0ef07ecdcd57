/**
 * The family seam: the registry picks families by model_type / architectures and names every supported family when
 * it cannot; a fake family registered here runs through Model, hooks, the KV cache, generation, force-feeding, the
 * logit lens, saving/loading and LoRA without the runtime knowing it (nothing Qwen2-specific is left on the path).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Rng, randn, readSafetensors, scale, Tensor, toFloat32Array, useBackend } from "@difflens/tensor";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { main as forwardCli } from "../src/cli/forward.ts";
import type { HookRunner } from "../src/hooks/hook-registry.ts";
import {
  ConfigError,
  createRandomModel,
  createRandomQwen2,
  DECODER_HOOK_SITES,
  type DecoderConfig,
  directLogitAttribution,
  familyByName,
  familyForHfConfig,
  forceFeedBatch,
  generate,
  insertHookSites,
  LoraError,
  loadLoraAdapter,
  loadModel,
  logitLens,
  Model,
  type ModelFamily,
  mergeLora,
  QWEN2_FAMILY,
  type Qwen2Config,
  type Qwen2Weights,
  qwen2ConfigFromHf,
  qwen2ConfigToHf,
  registerFamily,
  resolveQwen2Config,
  saveModelFolder,
  supportedFamilies,
  writeLoraAdapter,
} from "../src/index.ts";
import { relErr } from "./helpers.ts";

/** A Qwen2 whose logits are scaled by `logitScale` and whose blocks offer one more hook after resid_post. */
interface ScaledConfig extends Omit<Qwen2Config, "architecture"> {
  readonly architecture: string;
  readonly logitScale: number;
}

const asQwen2 = (c: ScaledConfig): Qwen2Config => ({ ...c, architecture: "qwen2" });

/** Every call qwen2's forward makes on `hooks`, plus the fake site right after each block's resid_post. */
function withFakeSite(hooks: HookRunner): HookRunner {
  return {
    wants: (name: string) => hooks.wants(name),
    release: (...t: Tensor[]) => hooks.release(...t),
    run: async (name: string, t: Tensor, shape: readonly number[]) => {
      const out = await hooks.run(name, t, shape);
      return name.endsWith(".hook_resid_post") ? hooks.run(name.replace("resid_post", "fake_post"), out, shape) : out;
    },
  } as unknown as HookRunner;
}

const scaled = (x: Tensor, s: number): Tensor => scale(x, s);

const FAKE: ModelFamily<ScaledConfig, Qwen2Weights> = {
  name: "fake",
  description: "fake (FakeForCausalLM: a test's scaled Qwen2)",
  modelTypes: ["fake_decoder"],
  architectures: ["FakeForCausalLM"],
  configFromHf: (json, file) => ({
    ...qwen2ConfigFromHf({ ...json, model_type: "qwen2" }, file),
    architecture: "fake",
    logitScale: json.logit_scale as number,
  }),
  configToHf: (c) => ({ ...qwen2ConfigToHf(asQwen2(c)), model_type: "fake_decoder", logit_scale: c.logitScale }),
  resolveConfig: ({ logitScale, ...rest }) => ({
    ...resolveQwen2Config({ ...rest, architecture: "qwen2" }),
    architecture: "fake",
    logitScale: logitScale as number,
  }),
  hookSites: insertHookSites(DECODER_HOOK_SITES, "blocks.{L}.hook_resid_post", [
    {
      template: "blocks.{L}.hook_fake_post",
      scope: "block",
      dims: ["batch", "pos", "dModel"],
      doc: "resid_post again",
    },
  ]),
  weightShapes: (c) => QWEN2_FAMILY.weightShapes(asQwen2(c)),
  bindWeights: (c, src) => QWEN2_FAMILY.bindWeights(asQwen2(c), src),
  weightEntries: (c, w) => QWEN2_FAMILY.weightEntries(asQwen2(c), w),
  linearModules: ["mlp.up_proj", "mlp.down_proj"], // no attention modules: LoRA must ask the family
  initStd: (name, shape, c) => QWEN2_FAMILY.initStd(name, shape, asQwen2(c)),
  forward: async (c, w, input, hooks, kv, logits) => {
    const out = await QWEN2_FAMILY.forward(asQwen2(c), w, input, withFakeSite(hooks), kv, logits);
    return out && scaled(out, c.logitScale);
  },
  unembed: (c, w, resid) => scaled(QWEN2_FAMILY.unembed(asQwen2(c), w, resid), c.logitScale),
  unembedNormed: (c, w, normed) => scaled(QWEN2_FAMILY.unembedNormed(asQwen2(c), w, normed), c.logitScale),
};

const SHAPE = { vocabSize: 40, dModel: 16, nLayers: 2, nHeads: 4, nKvHeads: 2, dMlp: 24, maxPositions: 64 };

const unregister = registerFamily(FAKE); // before the models below are made
let tmp: string;
beforeAll(() => {
  useBackend("js");
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "difflens-families-"));
});
afterAll(() => {
  unregister();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe("family registry", () => {
  it("picks by model_type, else by architectures; unsupported names every supported family", () => {
    expect(familyForHfConfig({ model_type: "qwen2" }).name).toBe("qwen2");
    expect(familyForHfConfig({ architectures: ["FakeForCausalLM"] }).name).toBe("fake");
    expect(familyForHfConfig({ model_type: "fake_decoder", architectures: ["Qwen2ForCausalLM"] }).name).toBe("fake");
    const run = () => familyForHfConfig({ model_type: "gpt2", architectures: ["GPT2LMHeadModel"] }, "m/config.json");
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(/m\/config\.json: model_type "gpt2"/);
    for (const f of supportedFamilies()) expect(run).toThrow(f.description);
    expect(run).toThrow("qwen2 (Qwen2ForCausalLM: Qwen1.5, Qwen2, Qwen2.5)");
    expect(() => familyByName("llama2000")).toThrow(/architecture "llama2000" is not supported; supported: qwen2/);
    expect(() => registerFamily({ ...FAKE, name: "fake2" })).toThrow(/fake_decoder.*already taken/);
  });

  it("a folder with an unsupported model_type fails to load naming the supported families", async () => {
    const dir = path.join(tmp, "gpt2");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify({ model_type: "gpt2", vocab_size: 10 }));
    await expect(loadModel(dir)).rejects.toThrow(/not supported; supported: qwen2 \(Qwen2ForCausalLM/);
  });
});

describe("a fake family through the runtime", () => {
  const fake = createRandomModel({ config: { ...SHAPE, architecture: "fake", logitScale: 0.5 }, seed: 3 });
  const qwen = createRandomQwen2({ config: SHAPE, seed: 3 });
  const ids = [1, 5, 9, 2, 7, 3];

  it("Model runs the family's forward and its hook table (the extra site fires and can intervene)", async () => {
    expect(fake.family.name).toBe("fake");
    const want = await qwen.forward(ids);
    expect(
      relErr(
        await fake.forward(ids),
        toFloat32Array(want).map((v) => v * 0.5),
      ),
    ).toBeLessThan(1e-6);
    expect(fake.hookNames()).toContain("blocks.1.hook_fake_post");
    expect(qwen.hookNames()).not.toContain("blocks.1.hook_fake_post");
    const { cache } = await fake.runWithCache(ids, { names: ["blocks.0.hook_resid_post", "blocks.0.hook_fake_post"] });
    expect(relErr(cache.get("blocks.0.hook_fake_post"), cache.get("blocks.0.hook_resid_post"))).toBe(0);
    const zero = (t: Tensor): void => {
      (t.data as Float32Array).fill(0);
    };
    const zeroed = await fake.withHooks({ "blocks.1.hook_fake_post": zero }, () => fake.forward(ids));
    expect(Math.max(...toFloat32Array(zeroed).map(Math.abs))).toBeLessThan(1e-6); // norm of zeros → zero logits
    expect(fake.hookShape("blocks.0.hook_fake_post", 2, 3)).toEqual([2, 3, 16]);
  });

  it("KV-cache generation, force-feeding and the logit lens go through the family", async () => {
    const full = await generate(fake, ids, { maxNewTokens: 5, stopTokens: [], returnLogits: true, useKvCache: false });
    const cached = await generate(fake, ids, { maxNewTokens: 5, stopTokens: [], returnLogits: true });
    expect(cached.tokens).toEqual(full.tokens);
    expect(relErr(cached.stepLogits!, full.stepLogits!)).toBeLessThan(1e-5);
    const fed = await forceFeedBatch(fake, [{ prompt: ids, continuation: full.tokens[0]! }]);
    expect(relErr(fed.items[0]!.stepLogits, full.stepLogits!)).toBeLessThan(1e-5);
    const { cache, logits } = await fake.runWithCache(ids, { names: ["blocks.1.hook_resid_post"] });
    expect(relErr(await logitLens(fake, cache.get("blocks.1.hook_resid_post")), logits!)).toBeLessThan(1e-6);
  });

  it("saves and loads back as its own family; LoRA targets the family's linear modules", async () => {
    const dir = path.join(tmp, "fake");
    await saveModelFolder(fake, dir);
    expect(JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8")).model_type).toBe("fake_decoder");
    const loaded = await loadModel(dir);
    expect(loaded.family.name).toBe("fake");
    expect((loaded.config as DecoderConfig & { logitScale: number }).logitScale).toBe(0.5);
    expect(relErr(await loaded.forward(ids), await fake.forward(ids))).toBe(0);
    const rng = new Rng(2);
    const lora = path.join(tmp, "fake-lora");
    const up = { a: randn([2, 16], rng, 0.3), b: randn([24, 2], rng, 0.3) };
    await writeLoraAdapter(lora, {
      r: 2,
      loraAlpha: 2,
      targetModules: ["up_proj"],
      modules: { "model.layers.1.mlp.up_proj": up },
    });
    const merged = await mergeLora(loaded, await loadLoraAdapter(lora));
    expect(merged.family.name).toBe("fake");
    expect(relErr(await merged.forward(ids), await fake.forward(ids))).toBeGreaterThan(1e-4);
    const q = { a: randn([2, 16], rng, 0.3), b: randn([16, 2], rng, 0.3) };
    await writeLoraAdapter(lora, {
      r: 2,
      loraAlpha: 2,
      targetModules: ["q_proj"],
      modules: { "model.layers.1.self_attn.q_proj": q },
    });
    await expect(mergeLora(loaded, await loadLoraAdapter(lora))).rejects.toThrow(LoraError);
    await expect(mergeLora(loaded, await loadLoraAdapter(lora))).rejects.toThrow(/up_proj, down_proj/);
  });

  it("direct logit attribution applies the family's normWeightOffset to the final norm", () => {
    const [config, weights] = [fake.config as ScaledConfig, fake.hostWeights as Qwen2Weights];
    const plusOne = toFloat32Array(weights.finalNorm).map((v) => v + 1);
    const offset = new Model({ config, weights, family: { ...FAKE, normWeightOffset: 1 }, dtype: "f32" });
    const stored = new Model({
      config,
      weights: { ...weights, finalNorm: new Tensor("f32", [16], plusOne) },
      dtype: "f32",
    });
    const [comps, resid] = [randn([3, 16], new Rng(4), 1), randn([3, 16], new Rng(5), 1)];
    const want = directLogitAttribution(stored, comps, resid, [1, 2]);
    expect(relErr(directLogitAttribution(offset, comps, resid, [1, 2]), want)).toBeLessThan(1e-6);
    expect(relErr(directLogitAttribution(fake, comps, resid, [1, 2]), want)).toBeGreaterThan(1e-2);
  });

  it("difflens-forward runs it unchanged (its hooks listed and written)", async () => {
    const dir = path.join(tmp, "fake-cli");
    await saveModelFolder(fake, dir);
    const stdout = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    const quiet = { out: () => {}, log: () => {} };
    expect(await forwardCli(["--model", dir, "--list-hooks", "--backend", "js"], quiet)).toBe(0);
    expect(stdout.mock.calls.map(([chunk]) => String(chunk)).join("")).toContain("blocks.1.hook_fake_post");
    stdout.mockRestore();
    const out = path.join(tmp, "fake-cli.safetensors");
    const argv = ["--model", dir, "--tokens", ids.join(","), "--hooks", "blocks.0.hook_fake_post", "--out", out];
    expect(await forwardCli([...argv, "--backend", "js"], quiet)).toBe(0);
    const { tensors } = await readSafetensors(out);
    expect(relErr(tensors.logits!, await fake.forward(ids))).toBe(0);
    expect(tensors["blocks.0.hook_fake_post"]!.shape).toEqual([1, ids.length, 16]);
  });
});
