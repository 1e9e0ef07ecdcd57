/**
 * The Qwen2 forward on webgpu equals native (js where the add-on is missing): logits and every hook of a left-padded
 * GQA batch, a KV-cached decode step, a hook that edits on the device, and greedy generation with the KV cache.
 * Small shapes and one model per backend: lavapipe compiles each pipeline once, slowly.
 */

import * as path from "node:path";
import {
  type Backend,
  currentBackend,
  nativeAvailable,
  type Tensor,
  toFloat32Array,
  toHost,
  useBackend,
} from "@difflens/tensor";
import { beforeAll, expect, it } from "vitest";
import { describeWebgpu } from "../../tensor/test/webgpu-available.ts";
import {
  addVector,
  createRandomQwen2,
  generate,
  type HookSpec,
  harvest,
  leftPad,
  loadLoraAdapter,
  loadModel,
  type Model,
  mergeLora,
  patchActivation,
  zeroAblateHead,
  zeroAblateMlp,
} from "../src/index.ts";
import { FIXTURES, relErr } from "./helpers.ts";

const CONFIG = { vocabSize: 64, dModel: 32, nLayers: 2, nHeads: 4, nKvHeads: 2, dMlp: 48, maxPositions: 32 };
const PROMPTS = [
  [5, 9, 2, 33, 17, 8],
  [41, 3, 12],
  [7, 7, 60, 1],
];
const every = () => true;

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

/** Same -Infinity entries (masked scores), then ‖a − b‖ / ‖b‖ over the finite ones. */
function maskedRelErr(a: Tensor, b: Tensor): number {
  const x = toFloat32Array(a).slice();
  const y = toFloat32Array(b).slice();
  for (let i = 0; i < y.length; i++) {
    if (Number.isFinite(y[i]!)) continue;
    if (x[i] !== y[i]) return Number.POSITIVE_INFINITY;
    x[i] = 0;
    y[i] = 0;
  }
  return relErr(x, y);
}

describeWebgpu("Qwen2 forward on webgpu vs native", () => {
  const reference = nativeAvailable().ok ? "native" : "js";
  let gpu: Model;
  let cpu: Model;
  beforeAll(async () => {
    cpu = await on(reference, async () => createRandomQwen2({ config: CONFIG, seed: 7 }));
    gpu = await on("webgpu", async () => createRandomQwen2({ config: CONFIG, seed: 7 }));
    expect([cpu.device, gpu.device]).toEqual(["cpu", "webgpu"]);
  });

  it("a model runs only under the backend of its device, and says so", async () => {
    await on(reference, () =>
      expect(gpu.forward([1, 2])).rejects.toThrow(/weights live on webgpu but the current backend/),
    );
    const kv = await on(reference, async () => cpu.createKvCache(1, 4));
    await on("webgpu", () => expect(gpu.forward([1, 2], { kvCache: kv })).rejects.toThrow(/KV cache lives on cpu/));
  });

  it("logits and every hook of a left-padded batch, then of a KV-cached decode step, within 1e-4", async () => {
    const run = (model: Model, backend: "webgpu" | "native" | "js") =>
      on(backend, async () => {
        const kv = model.createKvCache(PROMPTS.length, 8);
        const prompt = await model.runWithCache(leftPad(PROMPTS), { filter: every, kvCache: kv });
        const step = await model.runWithCache([[11], [4], [50]], { filter: every, kvCache: kv });
        kv.release();
        return [prompt, step];
      });
    const want = await run(cpu, reference);
    const got = await run(gpu, "webgpu");
    for (const [i, call] of ["prompt", "decode"].entries()) {
      expect(got[i]!.logits!.device).toBe("cpu"); // results come back as host tensors
      expect(relErr(got[i]!.logits!, want[i]!.logits!), `${call} logits`).toBeLessThan(1e-4);
      expect(got[i]!.cache.names()).toEqual(want[i]!.cache.names());
      for (const [name, t] of want[i]!.cache.entries()) {
        const mine = got[i]!.cache.get(name);
        expect(mine.shape, `${call} ${name}`).toEqual(t.shape);
        expect(maskedRelErr(mine, t), `${call} ${name}`).toBeLessThan(1e-4);
      }
    }
  });

  it("a hook that edits on the device (addVector at some positions) gives the same logits; a kept hook tensor stays readable", async () => {
    const v = Float32Array.from({ length: CONFIG.dModel }, (_, i) => Math.sin(i));
    const kept: Tensor[] = [];
    const steer = [
      addVector("blocks.0.hook_resid_post", v, { scale: 4, positions: { perRow: [[-1], [0], [1, 2]] } }),
      { name: "blocks.1.attn.hook_z", fn: (t: Tensor) => void kept.push(t) }, // kept past the call: never freed early
    ];
    const logits = (model: Model, backend: "webgpu" | "native" | "js") =>
      on(backend, () => model.withHooks(steer, () => model.forward(leftPad(PROMPTS))));
    const want = await logits(cpu, reference);
    expect(relErr(await logits(gpu, "webgpu"), want)).toBeLessThan(1e-4);
    expect(kept[1]!.device).toBe("webgpu");
    expect(relErr(await on("webgpu", () => toHost(kept[1]!)), kept[0]!)).toBeLessThan(1e-4);
    const plain = await on(reference, () => cpu.forward(leftPad(PROMPTS)));
    expect(relErr(plain, want)).toBeGreaterThan(1e-3); // the steering acts
  });

  // (clampDirection is GEMMs and a mul, as on the CPU: covered by the kernel parity tests; its extra pipelines cost here)
  it("patchActivation and the ablations (at positions: exact row picks on the device) give the same logits", async () => {
    const source = await on(reference, async () => {
      const { cache } = await cpu.runWithCache(leftPad(PROMPTS.map((p) => [...p].reverse())), {
        names: ["blocks.1.hook_resid_pre"],
      });
      return cache.get("blocks.1.hook_resid_pre"); // a host tensor serves either device
    });
    const specs: HookSpec[] = [
      patchActivation("blocks.1.hook_resid_pre", source, { positions: [-1, -2] }),
      zeroAblateHead(1, 3, { positions: [-1] }),
      zeroAblateMlp(0, { positions: [0, 2] }),
    ];
    const logits = (model: Model, backend: "webgpu" | "native" | "js") =>
      on(backend, () => model.withHooks(specs, () => model.forward(leftPad(PROMPTS))));
    expect(relErr(await logits(gpu, "webgpu"), await logits(cpu, reference))).toBeLessThan(1e-4);
  });

  it("harvest gathers the asked rows on the device: the same activations", async () => {
    const batches = [{ tokens: leftPad(PROMPTS), positions: { perRow: [[0, -1], [1], [2, 0]] } }, leftPad(PROMPTS)];
    const rows = (model: Model, backend: "webgpu" | "native" | "js") =>
      on(backend, async () => {
        const out: Tensor[] = [];
        for await (const t of harvest(model, "blocks.1.hook_resid_mid", batches)) out.push(t);
        return out;
      });
    const want = await rows(cpu, reference);
    const got = await rows(gpu, "webgpu");
    expect(got.map((t) => t.shape)).toEqual([
      [5, 32],
      [13, 32],
    ]);
    for (const [i, t] of got.entries()) expect(relErr(t, want[i]!)).toBeLessThan(1e-4);
  });

  it("a bf16 checkpoint (packed on the device) merged with a LoRA adapter there: the same logits", async () => {
    const logits = (backend: "webgpu" | "native" | "js") =>
      on(backend, async () => {
        const base = await loadModel(path.join(FIXTURES, "gqa-tied-bf16"));
        const merged = await mergeLora(base, await loadLoraAdapter(path.join(FIXTURES, "lora-basic")));
        return merged.forward(leftPad(PROMPTS.map((p) => p.map((id) => id % 32))));
      });
    expect(relErr(await logits("webgpu"), await logits(reference))).toBeLessThan(1e-4);
  });

  it("greedy generation with the KV cache gives the same tokens (padded batch; one prompt: causal softmax only)", async () => {
    for (const prompts of [PROMPTS, PROMPTS[0]!]) {
      const greedy = (model: Model, backend: "webgpu" | "native" | "js") =>
        on(backend, () => generate(model, prompts, { maxNewTokens: 5, stopTokens: [] }));
      expect((await greedy(gpu, "webgpu")).tokens).toEqual((await greedy(cpu, reference)).tokens);
    }
  });
});
