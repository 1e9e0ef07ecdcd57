/**
 * The SAE steering hooks on webgpu equal native (js where the add-on is missing): greedy generation with the KV
 * cache under an added direction (per-row starts) and a clamp on generated tokens only — the same tokens, and step
 * logits within 1e-4 relative. On a device the add runs as a kernel and the clamp reads the rows back first.
 * Small shapes and one model per backend: lavapipe compiles each pipeline once, slowly.
 */
import { createRandomQwen2, generate, type Model } from "@difflens/runtime";
import { type Backend, currentBackend, nativeAvailable, Rng, toFloat32Array, useBackend } from "@difflens/tensor";
import { beforeAll, expect, it } from "vitest";
import { describeWebgpu } from "../../tensor/test/webgpu-available.ts";
import { addDirectionHook, clampLatentHook, Sae, type SteeringHook, saeDecoderDirection } from "../src/index.ts";

const D = 32;
const HOOK = "blocks.0.hook_resid_post";
const CONFIG = { vocabSize: 64, dModel: D, nLayers: 2, nHeads: 4, nKvHeads: 2, dMlp: 48, maxPositions: 64 };
const PROMPTS = [
  [5, 9, 2, 33, 7],
  [17, 8],
  [60, 61, 62, 12, 40],
];

/** Runs `fn` with `name` as the current backend (a model's calls run on the backend its weights live on). */
async function on<T>(name: "webgpu" | "native" | "js", fn: () => Promise<T>): Promise<T> {
  const previous: Backend = currentBackend();
  await useBackend(name);
  try {
    return await fn();
  } finally {
    await useBackend(previous.name);
  }
}

function randomSae(seed: number, dSae = 48, k = 6): Sae {
  const rng = new Rng(seed);
  const g = (n: number, s: number) => Float32Array.from({ length: n }, () => rng.normal() * s);
  const weights = { wEnc: g(dSae * D, 0.3), bEnc: g(dSae, 0.1), wDec: g(dSae * D, 0.3), bDec: g(D, 0.05) };
  return new Sae({ dIn: D, dSae, activation: { kind: "topk", k }, hookName: HOOK }, weights);
}

function relErr(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / den);
}

describeWebgpu("SAE steering hooks on webgpu vs native", () => {
  const reference = nativeAvailable().ok ? "native" : "js";
  const sae = randomSae(1);
  const hooks: SteeringHook[] = [
    addDirectionHook({
      hook: HOOK,
      direction: saeDecoderDirection(sae, 3),
      alpha: 2,
      positions: { fromPosition: [2, 0, 4] },
    }),
    clampLatentHook(sae, {
      latent: [3, 11],
      value: 2,
      positions: { from: "generated", promptLengths: PROMPTS.map((p) => p.length) },
    }),
  ];
  const steered = (model: Model) =>
    model.withHooks(hooks, () =>
      generate(model, PROMPTS, { maxNewTokens: 4, stopTokens: [], temperature: 0, returnLogits: true }),
    );
  let cpu: Model;
  let gpu: Model;
  beforeAll(async () => {
    cpu = await on(reference, async () => createRandomQwen2({ config: CONFIG, seed: 5 }));
    gpu = await on("webgpu", async () => createRandomQwen2({ config: CONFIG, seed: 5 }));
    expect([cpu.device, gpu.device]).toEqual(["cpu", "webgpu"]);
  });

  it("generates the same tokens with logits within 1e-4, and the hooks steer", async () => {
    const want = await on(reference, () => steered(cpu));
    const got = await on("webgpu", () => steered(gpu));
    const plain = await on("webgpu", () =>
      generate(gpu, PROMPTS, { maxNewTokens: 4, stopTokens: [], temperature: 0, returnLogits: true }),
    );
    expect(got.tokens).toEqual(want.tokens);
    expect(relErr(toFloat32Array(got.stepLogits!), toFloat32Array(want.stepLogits!))).toBeLessThanOrEqual(1e-4);
    expect(relErr(toFloat32Array(got.stepLogits!), toFloat32Array(plain.stepLogits!))).toBeGreaterThan(1e-3);
  });
});
