import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { Rng, Tensor, toFloat32Array } from "@difflens/tensor";
import { createRandomQwen2 } from "@difflens/runtime";
import { mergePeftAdapter, readPeftAdapter, writePeftAdapter } from "../src/adapters/peft-lora-merge.ts";

describe("PEFT LoRA adapter (temporary app-side merge)", () => {
  it("writes PEFT's layout and merges W + (alpha/r)·B·A, checked against a float64 reference", async () => {
    const model = createRandomQwen2({ config: { vocabSize: 64, dModel: 16, nLayers: 2, nHeads: 2, dMlp: 24 }, seed: 1 });
    const rng = new Rng(9);
    const r = 2;
    const mk = (rows: number, cols: number) => new Tensor("f32", [rows, cols], Float32Array.from({ length: rows * cols }, () => rng.normal()));
    const pairs = [
      { module: "model.layers.1.self_attn.v_proj", a: mk(r, 16), b: mk(16, r) },
      { module: "model.layers.0.mlp.down_proj", a: mk(r, 24), b: mk(16, r) },
    ];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lora-"));
    await writePeftAdapter(path.join(dir, "adapter"), pairs, { r, alpha: 3, baseModel: "base" });
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, "adapter", "adapter_config.json"), "utf8"));
    expect(cfg).toMatchObject({ peft_type: "LORA", r: 2, lora_alpha: 3, target_modules: ["v_proj", "down_proj"] });
    const read = await readPeftAdapter(path.join(dir, "adapter"));
    expect(read.scaling).toBe(1.5);
    const merged = await mergePeftAdapter(model, path.join(dir, "adapter"));
    for (const [p, field, layer] of [[pairs[0]!, "vProj", 1], [pairs[1]!, "downProj", 0]] as const) {
      const w0 = toFloat32Array(model.weights.layers[layer]![field]);
      const w1 = toFloat32Array(merged.weights.layers[layer]![field]);
      const [out, inn] = [p.b.shape[0]!, p.a.shape[1]!];
      let err = 0, norm = 0;
      for (let o = 0; o < out; o++) for (let i = 0; i < inn; i++) {
        let delta = 0;
        for (let q = 0; q < r; q++) delta += (p.b.data as Float32Array)[o * r + q]! * (p.a.data as Float32Array)[q * inn + i]!;
        const ref = w0[o * inn + i]! + 1.5 * delta;
        err += (w1[o * inn + i]! - ref) ** 2;
        norm += ref ** 2;
      }
      expect(Math.sqrt(err / norm)).toBeLessThan(1e-6);
    }
    // Untargeted weights are the base's own tensors; the base model is untouched.
    expect(merged.weights.layers[0]!.qProj).toBe(model.weights.layers[0]!.qProj);
    expect(toFloat32Array(model.weights.layers[1]!.vProj)).not.toEqual(toFloat32Array(merged.weights.layers[1]!.vProj));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("names the file when the adapter is not a LoRA folder", async () => {
    await expect(readPeftAdapter("/nonexistent")).rejects.toThrow(/no adapter_config.json/);
  });
});
