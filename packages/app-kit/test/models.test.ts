import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { writeLoraAdapter, writeRandomQwen2Folder } from "@difflens/runtime";
import { Tensor, toFloat32Array, useBackend } from "@difflens/tensor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openModel, openModelPair } from "../src/index.ts";
import { QWEN_TOKENIZER, TINY_QWEN2 } from "./helpers.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "app-kit-models-"));
const base = path.join(tmp, "base");
const bare = path.join(tmp, "bare");
const adapter = path.join(tmp, "lora");
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

beforeAll(async () => {
  useBackend("auto");
  await writeRandomQwen2Folder(base, { config: TINY_QWEN2, seed: 1, tokenizerFrom: QWEN_TOKENIZER });
  await writeRandomQwen2Folder(bare, { config: TINY_QWEN2, seed: 2 });
  fs.copyFileSync(path.join(QWEN_TOKENIZER, "tokenizer.json"), path.join(bare, "tokenizer.json"));
  const a = new Tensor(
    "f32",
    [1, 16],
    Float32Array.from({ length: 16 }, (_, i) => (i % 3) - 1),
  );
  const b = new Tensor(
    "f32",
    [16, 1],
    Float32Array.from({ length: 16 }, (_, i) => 0.5 - (i % 2)),
  );
  const module = "model.layers.0.mlp.down_proj";
  const down = new Tensor(
    "f32",
    [1, 32],
    Float32Array.from({ length: 32 }, (_, i) => (i % 5) / 5),
  );
  await writeLoraAdapter(adapter, {
    r: 1,
    loraAlpha: 1,
    baseModel: "../base",
    targetModules: ["model.layers.0.self_attn.o_proj", module],
    modules: { "model.layers.0.self_attn.o_proj": { a, b }, [module]: { a: down, b } },
  });
}, 60_000);

const logits = async (m: { forward(ids: number[]): Promise<Tensor> }) =>
  toFloat32Array(await m.forward([9707, 11, 1879, 0]));

describe("opening models", () => {
  it("opens one model with its tokenizer and its own chat template", async () => {
    const opened = await openModel({ path: base, adapter: null });
    expect(opened.description).toBe(base);
    expect(Array.from((await opened.tokenizer.encode("Hello")).ids)).toEqual([9707]);
    expect(opened.template.source).toContain("<|im_start|>");
    opened.close();
  });

  it("falls back to the bundled Qwen1.5-Chat template when the folder has none", async () => {
    const opened = await openModel({ path: bare, adapter: null });
    expect(opened.template.name).toBe("qwen1.5-chat");
    opened.close();
  });

  it("merges a LoRA chat model into the base it shares, loading the base once", async () => {
    const pair = await openModelPair({ path: base, adapter: null }, { path: base, adapter });
    const [b, c] = [await logits(pair.base), await logits(pair.chat)];
    expect(pair.chat).not.toBe(pair.base);
    expect(b.some((v, i) => Math.abs(v - c[i]!) > 1e-4)).toBe(true);
    expect(pair.describe).toEqual({ base, chat: `${base} + LoRA ${adapter}` });
    const alone = await openModel({ path: base, adapter });
    expect(Array.from(await logits(alone.model))).toEqual(Array.from(c)); // the same merge as a model opened on its own
    alone.close();
    pair.close();
  });

  it("uses the base itself as the chat model of a control pair, and opens separate folders separately", async () => {
    const control = await openModelPair({ path: base, adapter: null }, { path: base, adapter: null });
    expect(control.chat).toBe(control.base);
    control.close();
    const two = await openModelPair({ path: base, adapter: null }, { path: bare, adapter: null });
    expect(Array.from(await logits(two.base))).not.toEqual(Array.from(await logits(two.chat)));
    expect(two.template.name).toBe("qwen1.5-chat"); // the chat model's template
    two.close();
  });
});
