/**
 * SAE-latent steering hooks through generation: the same tokens and logits with and without the KV cache for every
 * kind of positions, a clamp to the current value is the identity, and the hooks' shape fits runtime's withHooks
 * structurally (this package never imports the runtime; the test may).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createRandomQwen2, generate, type HookSpec } from "@difflens/runtime";
import { Rng, Tensor, writeSafetensors } from "@difflens/tensor";
import { afterAll, describe, expect, it } from "vitest";
import {
  addDirectionHook,
  clampLatentHook,
  readDirectionFile,
  Sae,
  type SteeringHook,
  saeDecoderDirection,
} from "../src/index.ts";

const D = 32;
const model = createRandomQwen2({
  config: { vocabSize: 64, dModel: D, nLayers: 2, nHeads: 4, nKvHeads: 2, dMlp: 48, maxPositions: 64 },
  seed: 5,
});
const HOOK = "blocks.0.hook_resid_post";

function randomSae(seed: number, dSae = 48, k = 6): Sae {
  const rng = new Rng(seed);
  const g = (n: number, s: number) => Float32Array.from({ length: n }, () => rng.normal() * s);
  const weights = { wEnc: g(dSae * D, 0.3), bEnc: g(dSae, 0.1), wDec: g(dSae * D, 0.3), bDec: g(D, 0.05) };
  return new Sae({ dIn: D, dSae, activation: { kind: "topk", k }, hookName: HOOK }, weights);
}

/** The latent active at the most positions of a prompt (so clamping it to 0 changes something). */
async function busiestLatent(sae: Sae, prompt: number[]): Promise<number> {
  const { cache } = await model.runWithCache([prompt], { names: [HOOK] });
  const codes = sae.encode(cache.get(HOOK).reshape([prompt.length, D]));
  const counts = new Int32Array(sae.dSae);
  for (const i of codes.indices) counts[i]!++;
  return counts.indexOf(Math.max(...counts));
}

const prompts = [
  [5, 9, 2, 33, 7],
  [17, 8],
  [60, 61, 62, 63, 64 - 1, 12, 40],
];
const promptLengths = prompts.map((p) => p.length);

function maxAbsDiff(a: Tensor, b: Tensor): number {
  const x = a.data as Float32Array;
  const y = b.data as Float32Array;
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  return m;
}

async function runBoth(hooks: SteeringHook[], sampled = false) {
  const cfg = {
    maxNewTokens: 8,
    stopTokens: [],
    returnLogits: true,
    ...(sampled ? { temperature: 0.9, seed: 3 } : {}),
  };
  const specs: HookSpec[] = hooks; // structural fit: sae's SteeringHook is a runtime HookSpec
  const kv = await model.withHooks(specs, () => generate(model, prompts, cfg));
  const full = await model.withHooks(specs, () => generate(model, prompts, { ...cfg, useKvCache: false }));
  return { kv, full };
}

// computed before the cases are declared (top-level await: a forward pass is async)
const sae = randomSae(1);
const latent = await busiestLatent(sae, prompts[0]!);
const direction = saeDecoderDirection(sae, latent);
const plain = await generate(model, prompts, { maxNewTokens: 8, stopTokens: [], returnLogits: true });

describe("SAE steering hooks through generation", () => {
  const cases: Array<[string, SteeringHook[], boolean]> = [
    ["clamp to 0 at all positions", [clampLatentHook(sae, { latent, value: 0 })], false],
    [
      "clamp two latents to 3, generated tokens only",
      [
        clampLatentHook(sae, {
          latent: [latent, (latent + 1) % 48],
          value: 3,
          positions: { from: "generated", promptLengths },
        }),
      ],
      true,
    ],
    [
      "add 2·d from per-row region starts",
      [addDirectionHook({ hook: HOOK, direction, alpha: 2, positions: { fromPosition: [2, 0, 5] } })],
      false,
    ],
    [
      "add and clamp together, sampled",
      [
        addDirectionHook({ hook: HOOK, direction, alpha: -1.5 }),
        clampLatentHook(sae, { latent, value: 1, positions: { fromPosition: 3 } }),
      ],
      true,
    ],
  ];
  it.each(cases)(
    "%s: KV cache = full recomputation (tokens; logits ≤ 1e-4) and it steers",
    async (_name, hooks, sampled) => {
      const { kv, full } = await runBoth(hooks, sampled);
      expect(kv.tokens).toEqual(full.tokens);
      expect(maxAbsDiff(kv.stepLogits!, full.stepLogits!)).toBeLessThanOrEqual(1e-4);
      if (!sampled) expect(maxAbsDiff(kv.stepLogits!, plain.stepLogits!)).toBeGreaterThan(1e-3);
    },
  );

  it("generated-only steering leaves the first new token's logits alone and changes later ones", async () => {
    const { kv } = await runBoth([
      addDirectionHook({ hook: HOOK, direction, alpha: 4, positions: { from: "generated", promptLengths } }),
    ]);
    const V = 64;
    const first = (t: Tensor, b: number) => (t.data as Float32Array).subarray(b * 8 * V, b * 8 * V + V);
    for (let b = 0; b < prompts.length; b++) expect(first(kv.stepLogits!, b)).toEqual(first(plain.stepLogits!, b));
    expect(maxAbsDiff(kv.stepLogits!, plain.stepLogits!)).toBeGreaterThan(1e-3);
  });

  it("a clamp to the current value is exactly the identity", async () => {
    const { cache } = await model.runWithCache([prompts[2]!], { names: [HOOK] });
    const x = cache.get(HOOK); // [1, seq, D]
    const seq = x.shape[1]!;
    const codes = sae.encode(x.reshape([seq, D]));
    // the last token's own activation of `latent` (0 when inactive), clamped at that token only
    let current = 0;
    for (let p = codes.indptr[seq - 1]!; p < codes.indptr[seq]!; p++)
      if (codes.indices[p] === latent) current = codes.values[p]!;
    const copy = new Tensor("f32", x.shape, (x.data as Float32Array).slice());
    const call = {
      batch: 1,
      seq,
      attentionMask: new Uint8Array(seq).fill(1),
      positionIds: Int32Array.from({ length: seq }, (_, i) => i),
    };
    await clampLatentHook(sae, { latent, value: current, positions: { fromPosition: seq - 1 } }).fn(copy, call);
    expect(copy.data).toEqual(x.data);
    // a latent that never fires (its encoder bias far below 0), clamped to 0 through a whole generation
    const quiet = randomSae(1);
    quiet.weights.bEnc[47] = -1e3;
    const { kv } = await runBoth([clampLatentHook(quiet, { latent: 47, value: 0 })]);
    expect(kv.tokens).toEqual(plain.tokens);
    expect(kv.stepLogits!.data).toEqual(plain.stepLogits!.data);
  });

  it("the clamp is x + (v − a_i(x))·d_i", async () => {
    const x = new Tensor(
      "f32",
      [1, 1, D],
      Float32Array.from({ length: D }, (_, i) => Math.cos(i)),
    );
    const codes = sae.encode(x.reshape([1, D]));
    const [i] = codes.indices;
    const a = codes.values[0]!;
    const out = new Tensor("f32", x.shape, (x.data as Float32Array).slice());
    const call = { batch: 1, seq: 1, attentionMask: Uint8Array.of(1), positionIds: Int32Array.of(0) };
    await clampLatentHook(sae, { latent: i!, value: 5 }).fn(out, call);
    const d = saeDecoderDirection(sae, i!);
    (x.data as Float32Array).forEach((v, k) => expect(out.data[k]).toBeCloseTo(v + (5 - a) * d[k]!, 5));
  });
});

describe("direction files", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "steer-dir-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const v = Float32Array.from([0.5, -1, 2.25, 3]);

  it("reads .safetensors, .npy (f4, f8) and .json; rejects other shapes and extensions naming the file", async () => {
    await writeSafetensors(path.join(dir, "d.safetensors"), { direction: new Tensor("f32", [1, 4], v) });
    expect(await readDirectionFile(path.join(dir, "d.safetensors"))).toEqual(v);
    for (const [descr, width] of [
      ["<f4", 4],
      ["<f8", 8],
    ] as const) {
      const header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (4,), }`.padEnd(117, " ") + "\n";
      const head = Buffer.concat([
        Buffer.from("\x93NUMPY\x01\x00", "latin1"),
        Buffer.from([header.length, 0]),
        Buffer.from(header, "latin1"),
      ]);
      const body = Buffer.alloc(4 * width);
      v.forEach((x, i) => (width === 4 ? body.writeFloatLE(x, 4 * i) : body.writeDoubleLE(x, 8 * i)));
      fs.writeFileSync(path.join(dir, `d${width}.npy`), Buffer.concat([head, body]));
      expect(await readDirectionFile(path.join(dir, `d${width}.npy`))).toEqual(v);
    }
    fs.writeFileSync(path.join(dir, "d.json"), JSON.stringify({ direction: Array.from(v) }));
    expect(await readDirectionFile(path.join(dir, "d.json"))).toEqual(v);
    await writeSafetensors(path.join(dir, "m.safetensors"), { m: new Tensor("f32", [2, 2], v) });
    await expect(readDirectionFile(path.join(dir, "m.safetensors"))).rejects.toThrow(
      /m\.safetensors.*\[2, 2\]; expected \[d\]/,
    );
    fs.writeFileSync(path.join(dir, "d.txt"), "1 2");
    await expect(readDirectionFile(path.join(dir, "d.txt"))).rejects.toThrow(/d\.txt: expected a \.safetensors/);
  });
});
