import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { bf16ArrayToF32, f32ArrayToBf16, Rng, randn, toFloat32Array, useBackend } from "@difflens/tensor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  LoraError,
  loadLoraAdapter,
  loadModel,
  mergeLora,
  type Qwen2Config,
  type Qwen2Weights,
  saveModelFolder,
  writeLoraAdapter,
} from "../src/index.ts";
import { FIXTURES, ids2d, readExpected, relErr } from "./helpers.ts";

let tmp: string;
beforeAll(() => {
  useBackend("js");
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "difflens-lora-"));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("PEFT LoRA merge vs the float64 reference", () => {
  it.each([
    ["lora-basic", "gqa-tied-bf16", 3 * 3],
    ["lora-rslora-patterns", "mha-untied-f32", 2 * 7],
  ])("%s on %s: merged weights and logits", async (lora, base, nModules) => {
    const model = await loadModel(path.join(FIXTURES, base));
    const adapter = await loadLoraAdapter(path.join(FIXTURES, lora));
    expect(adapter.modules.size).toBe(nModules);
    const merged = await mergeLora(model, adapter);
    const exp = await readExpected(`${lora}/expected-merge.safetensors`);
    const byName = new Map<string, ReturnType<typeof toFloat32Array>>();
    const { qwen2WeightEntries } = await import("../src/families/qwen2/qwen2-weights.ts");
    for (const [name, t] of qwen2WeightEntries(merged.config as Qwen2Config, merged.weights as Qwen2Weights))
      byName.set(name, toFloat32Array(t));
    let checked = 0;
    for (const [name, want] of Object.entries(exp)) {
      if (!name.endsWith(".weight")) continue;
      const exact = toFloat32Array(want);
      // the merge is exact in f64; the stored weight is that value in the model's dtype
      const stored = model.dtype === "bf16" ? bf16ArrayToF32(f32ArrayToBf16(exact)) : exact;
      expect(relErr(byName.get(name)!, stored), name).toBeLessThan(1e-4);
      expect(relErr(byName.get(name)!, exact), name).toBeLessThan(model.dtype === "bf16" ? 5e-3 : 1e-6);
      checked++;
    }
    expect(checked).toBe(nModules);
    expect(relErr(await merged.forward(ids2d(exp.input_ids!)), exp.logits!)).toBeLessThan(1e-4);
    expect(relErr(await model.forward(ids2d(exp.input_ids!)), exp.logits!)).toBeGreaterThan(1e-3); // the base differs
    // the merged model saves as an HF folder that loads back identically, in the base dtype
    const out = path.join(tmp, `${lora}-merged`);
    await saveModelFolder(merged, out);
    const reloaded = await loadModel(out);
    expect(reloaded.dtype).toBe(model.dtype);
    expect(relErr(await reloaded.forward(ids2d(exp.input_ids!)), await merged.forward(ids2d(exp.input_ids!)))).toBe(0);
  });

  it("writeLoraAdapter round-trips; missing targets and foreign architectures list what exists", async () => {
    const model = await loadModel(path.join(FIXTURES, "gqa-tied-bf16"));
    const rng = new Rng(1);
    const dir = path.join(tmp, "written");
    await writeLoraAdapter(dir, {
      r: 2,
      loraAlpha: 4,
      targetModules: ["up_proj"],
      baseModel: "tiny",
      modules: { "model.layers.2.mlp.up_proj": { a: randn([2, 32], rng, 0.2), b: randn([48, 2], rng, 0.2) } },
    });
    const adapter = await loadLoraAdapter(dir);
    expect(adapter.modules.get("model.layers.2.mlp.up_proj")!.scale).toBe(2);
    const merged = await mergeLora(model, adapter);
    const [m, b] = [merged.weights as Qwen2Weights, model.weights as Qwen2Weights];
    expect(m.layers[2]!.upProj).not.toBe(b.layers[2]!.upProj);
    expect(m.layers[1]!.upProj).toBe(b.layers[1]!.upProj);

    const cfg = JSON.parse(fs.readFileSync(path.join(dir, "adapter_config.json"), "utf8"));
    fs.writeFileSync(path.join(dir, "adapter_config.json"), JSON.stringify({ ...cfg, target_modules: ["c_attn"] }));
    await loadLoraAdapter(dir).then((a) =>
      expect(mergeLora(model, a)).rejects.toThrow(
        /"c_attn" does not exist .* q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj/,
      ),
    );

    const foreign = path.join(tmp, "foreign");
    await writeLoraAdapter(foreign, {
      r: 2,
      loraAlpha: 2,
      targetModules: ["up_proj"],
      modules: { "transformer.h.0.mlp.up_proj": { a: randn([2, 32], rng), b: randn([48, 2], rng) } },
    });
    const f = await loadLoraAdapter(foreign);
    await expect(mergeLora(model, f)).rejects.toThrow(LoraError);
    await expect(mergeLora(model, f)).rejects.toThrow(/another architecture/);

    const badRank = path.join(tmp, "bad-rank");
    await writeLoraAdapter(badRank, {
      r: 3,
      loraAlpha: 2,
      targetModules: ["up_proj"],
      modules: { "model.layers.0.mlp.up_proj": { a: randn([2, 32], rng), b: randn([48, 2], rng) } },
    });
    await expect(loadLoraAdapter(badRank)).rejects.toThrow(/rank 3/);
    const badShape = path.join(tmp, "bad-shape");
    await writeLoraAdapter(badShape, {
      r: 2,
      loraAlpha: 2,
      targetModules: ["up_proj"],
      modules: { "model.layers.0.mlp.up_proj": { a: randn([2, 31], rng), b: randn([48, 2], rng) } },
    });
    await loadLoraAdapter(badShape).then((a) =>
      expect(mergeLora(model, a)).rejects.toThrow(/B·A is \[48, 31\], the weight is \[48, 32\]/),
    );
  });
});
