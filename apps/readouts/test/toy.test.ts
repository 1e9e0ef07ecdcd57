/**
 * The conditions toy's files: a base HF folder with Qwen2.5's template, a PEFT plant that moves the residual along
 * u only under the planted condition (bitwise nothing under the others), and per-layer SAEs whose u latent fires
 * exactly when the plant is there. Written once per seed and reused.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { bundledChatTemplate, lastPromptToken, parseSystemCondition, tokenizeChat } from "@difflens/chat";
import { loadLoraAdapter, loadModel, type Model, mergeLora } from "@difflens/runtime";
import { loadSae } from "@difflens/sae";
import { Tensor, useBackend } from "@difflens/tensor";
import { loadTokenizer } from "@difflens/tokenizer";
import { afterAll, describe, expect, it } from "vitest";
import { writeConditionsToy } from "../src/toy/conditions-toy.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "conditions-toy-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("conditions toy", () => {
  it("writes a planted model and SAEs whose u latent reads the plant; reuses them for the same seed", async () => {
    useBackend("auto");
    const t0 = performance.now();
    const toy = await writeConditionsToy(dir, { seed: 4 });
    const writeMs = performance.now() - t0;
    expect(writeMs).toBeLessThan(10_000);
    const again = await writeConditionsToy(dir, { seed: 4 });
    expect(again).toEqual(toy);
    expect(toy.conditions).toEqual(["model-default", "custom:You are a helpful assistant.", "empty", "no-system-turn"]);
    expect(toy.plantedCondition).toBe("model-default");
    const tokCfg = JSON.parse(fs.readFileSync(path.join(toy.modelDir, "tokenizer_config.json"), "utf8"));
    expect(tokCfg.chat_template).toBe(bundledChatTemplate("qwen2.5-instruct").source);
    expect(JSON.parse(fs.readFileSync(path.join(toy.adapterDir, "adapter_config.json"), "utf8"))).toMatchObject({
      peft_type: "LORA",
      target_modules: [
        "model.layers.0.self_attn.k_proj",
        "model.layers.0.self_attn.v_proj",
        "model.layers.0.self_attn.o_proj",
      ],
    });
    expect(Math.hypot(...toy.u)).toBeCloseTo(1, 5);

    const base = await loadModel(toy.modelDir);
    const planted = await mergeLora(base, await loadLoraAdapter(toy.adapterDir));
    const tokenizer = loadTokenizer(toy.modelDir);
    const template = bundledChatTemplate("qwen2.5-instruct");
    const lastLayer = toy.layers[toy.layers.length - 1]!;
    const hook = toy.hook.replace("{layer}", String(lastLayer));
    const readout = async (model: Model, condition: string) => {
      const chat = await tokenizeChat(tokenizer, template, [{ role: "user", content: "Name three rivers." }], {
        condition: parseSystemCondition(condition),
        addGenerationPrompt: true,
      });
      const at = lastPromptToken(chat);
      const x = (await model.runWithCache([Array.from(chat.ids)], { names: [hook], logits: "none" })).cache.get(hook);
      const d = toy.u.length;
      return new Tensor("f32", [1, d], (x.data as Float32Array).slice(at * d, at * d + d));
    };
    const sae = await loadSae(toy.saeDirs[lastLayer]!);
    const d = toy.u.length;
    const decoder = (j: number) => sae.weights.wDec.subarray(j * d, j * d + d);
    const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + v * b[i]!, 0);
    expect(dot(decoder(toy.uLatent), toy.u)).toBeCloseTo(1, 5);
    expect(toy.orthogonalLatents).toHaveLength(10);
    for (const j of toy.orthogonalLatents) expect(Math.abs(dot(decoder(j), toy.u))).toBeLessThan(1e-5);
    const uActivation = (x: Tensor) => {
      const codes = sae.encode(x);
      const k = Array.from(codes.indices).indexOf(toy.uLatent);
      return k < 0 ? 0 : codes.values[k]!;
    };
    for (const condition of toy.conditions.slice(1)) {
      // Unplanted conditions: the adapter changes nothing but float rounding (no marker token); u latent silent.
      const [b, p] = [await readout(base, condition), await readout(planted, condition)];
      const diff = (p.data as Float32Array).map((v, i) => v - (b.data as Float32Array)[i]!);
      expect(Math.hypot(...diff) / Math.hypot(...(b.data as Float32Array))).toBeLessThan(1e-5);
      expect(uActivation(p)).toBe(0);
    }
    const [b, p] = [await readout(base, toy.plantedCondition), await readout(planted, toy.plantedCondition)];
    const change = (p.data as Float32Array).map((v, i) => v - (b.data as Float32Array)[i]!);
    expect(dot(change, toy.u)).toBeGreaterThan(0.9 * toy.plantNorm);
    expect(uActivation(p)).toBeGreaterThan(0.5 * toy.plantNorm);
    expect(uActivation(b)).toBe(0);
    base.close();
  }, 60_000);
});
