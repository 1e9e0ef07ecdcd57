/**
 * The Llama and Qwen3 forwards on webgpu match their float64 references (logits and every hook at seq 7): RoPE
 * inverse frequencies from llama3 scaling and Qwen3's per-head q/k norms on the device. One small model each
 * (lavapipe compiles each pipeline once, slowly).
 */
import * as path from "node:path";
import { currentBackend, useBackend } from "@difflens/tensor";
import { expect, it } from "vitest";
import { describeWebgpu } from "../../tensor/test/webgpu-available.ts";
import { loadModel } from "../src/index.ts";
import { fixtureRoot, hookErr, readFixture, TOL } from "./families-llama-parity.ts";
import { ids2d, relErr } from "./helpers.ts";

describeWebgpu("Llama-style families on webgpu vs float64 reference", () => {
  it.each([
    ["llama", "llama3-gqa-tied-bf16"],
    ["qwen3", "gqa-tied-bf16"],
  ])("%s %s: logits and every hook at seq 7", async (family, name) => {
    await useBackend("webgpu");
    expect(currentBackend().name).toBe("webgpu");
    const model = await loadModel(path.join(fixtureRoot(family), name));
    const expected = await readFixture(family, `${name}/expected-seq7.safetensors`);
    const names = Object.keys(expected).filter((k) => k.includes("hook_"));
    const { logits, cache } = await model.runWithCache(ids2d(expected.input_ids!), { names });
    expect(relErr(logits!, expected.logits!)).toBeLessThan(TOL);
    for (const n of names) expect(hookErr(n, cache.get(n), expected[n]!), n).toBeLessThan(TOL);
    model.close();
  });
});
