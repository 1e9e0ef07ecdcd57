/**
 * The diff methods on the diffing demo's toy pair (chat = base + the rank-1 marker-head plant, which writes ≈ c·u on
 * every position after `<|im_start|>`): a paired harvest into one store, a diff-SAE on (chat − base) and the
 * activation-difference lens must both find u; the ADL vector round-trips through the steering reader; mismatched
 * paired inputs are refused naming both sides.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ActivationStoreWriter } from "@difflens/data";
import { createRandomQwen2, loadLoraAdapter, loadModel, type Model, mergeLora } from "@difflens/runtime";
import { readDirectionFile } from "@difflens/sae";
import { Rng, useBackend } from "@difflens/tensor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cosine } from "../src/compare/leading-direction.ts";
import { ensureToyFiles, IM_END_ID, IM_START_ID, TOY_HOOK, type ToyFiles } from "../src/index.ts";
import { activationDifferenceLens, adlLogitLens, writeAdlSteeringVector } from "../src/methods/adl.ts";
import { runCrosscoderMethod } from "../src/methods/crosscoder-method.ts";
import { runDiffMethods } from "../src/methods/diff-methods.ts";
import { trainDiffSae } from "../src/methods/diff-sae.ts";
import { pairActivationStores } from "../src/methods/pair-stores.ts";
import { assistantStartAfter, type PairedWindow, pairedHarvest } from "../src/methods/paired-harvest.ts";
import { PairedStore } from "../src/methods/paired-store.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "methods-diff-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const TEXT =
  "The quiet glacier describes a large painter near Osaka. However, the modern harbor changes the careful river in 1887.";
async function* calibration() {
  for (let i = 0; i < 64; i++) yield `${TEXT} ${i}`;
}

/** Qwen's ids of "assistant" and "\n": with `<|im_start|>` they open the assistant turn. */
const ASSISTANT_MARKER = [IM_START_ID, 77091, 198];

/** Chat-shaped windows of random ordinary tokens: <|im_start|> user… <|im_end|> \n <|im_start|>assistant\n reply… */
function chatWindows(n: number, length: number, seed: number): PairedWindow[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const user = 3 + rng.int(6);
    const ids = Int32Array.from({ length }, () => 1000 + rng.int(20000));
    ids[0] = IM_START_ID;
    ids[user] = IM_END_ID;
    ids[user + 1] = 198;
    ids.set(ASSISTANT_MARKER, user + 2);
    const mask = new Uint8Array(length).fill(1);
    mask[0] = 0; // the first position, as the stages' excludeFirstPosition
    return { ids, mask, length };
  });
}

/** Plain-text windows (no chat marker: the plant writes nothing, chat − base ≈ 0). */
function textWindows(n: number, length: number, seed: number): PairedWindow[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const mask = new Uint8Array(length).fill(1);
    mask[0] = 0;
    return { ids: Int32Array.from({ length }, () => 1000 + rng.int(20000)), mask, length };
  });
}

/** 40 chat and 60 text windows interleaved: the diff-SAE trains on both, as the stages read both datasets. */
function mixedWindows(): PairedWindow[] {
  const chats = chatWindows(40, 24, 1),
    texts = textWindows(60, 24, 2);
  const out: PairedWindow[] = [];
  for (let i = 0; i < 20; i++)
    out.push(chats[2 * i]!, chats[2 * i + 1]!, texts[3 * i]!, texts[3 * i + 1]!, texts[3 * i + 2]!);
  return out;
}

async function* each<T>(xs: T[]): AsyncGenerator<T> {
  yield* xs;
}

let files: ToyFiles, base: Model, chat: Model, store: PairedStore;

beforeAll(async () => {
  useBackend("auto");
  files = await ensureToyFiles({ seed: 3, plantScale: 0.75, cacheDir: dir, calibrationTexts: calibration });
  base = await loadModel(files.baseDir);
  chat = await mergeLora(base, await loadLoraAdapter(files.adapterDir));
  const manifest = await pairedHarvest({
    base,
    chat,
    names: { base: "toy-base", chat: "toy-chat" },
    hook: TOY_HOOK,
    windows: each(mixedWindows()),
    windowsPerForward: 10,
    outDir: path.join(dir, "paired"),
    dataset: "random chat-shaped and plain windows",
    shardRows: 1000,
    assistantStart: assistantStartAfter(ASSISTANT_MARKER),
  });
  expect(manifest.tokenCount).toBe(100 * 23);
  store = PairedStore.open(path.join(dir, "paired"), { hook: TOY_HOOK, dIn: 64 });
}, 60_000);

afterAll(() => base?.close());

describe("paired harvest", () => {
  it("stores both models' rows once with a shared record of where each came from", async () => {
    expect(store.manifest.shards.map((s) => s.rows)).toEqual([1150, 1150]); // a forward's rows are never split
    let rows = 0;
    for await (const shard of store.shards()) {
      for (let r = 0; r < shard.rows; r++) {
        expect(shard.position[r]).toBeGreaterThan(0); // the masked first position is in neither model's rows
        if (shard.assistantOffset[r]! >= 0) expect(shard.position[r]).toBeGreaterThanOrEqual(shard.assistantOffset[r]!);
      }
      rows += shard.rows;
    }
    expect(rows).toBe(100 * 23);
  });

  it("refuses paired inputs of different lengths or widths, naming both", async () => {
    const single = async (name: string, rows: number, dIn: number) => {
      const w = new ActivationStoreWriter(path.join(dir, name), {
        model: name,
        hook: TOY_HOOK,
        dataset: "x",
        dIn,
        dtype: "f32",
      });
      await w.append(new Float32Array(rows * dIn));
      await w.finish();
      return path.join(dir, name);
    };
    const [a, shorter, narrower] = [await single("a", 10, 8), await single("b", 9, 8), await single("c", 10, 4)];
    expect(() => pairActivationStores(a, shorter, 4)).toThrow(expect.objectContaining({ code: "SHAPE_MISMATCH" }));
    expect(() => pairActivationStores(a, shorter, 4)).toThrow(new RegExp(`${a} holds 10 rows but ${shorter} holds 9`));
    expect(() => pairActivationStores(a, narrower, 4)).toThrow(new RegExp(`${a} has dIn=8 but ${narrower} has dIn=4`));
    expect(() => PairedStore.open(a)).toThrow(/single-model store: pair two with pairActivationStores/);
    const wide = createRandomQwen2({ config: { ...base.config, dModel: 32, nHeads: 2, nKvHeads: 2 }, seed: 1 });
    await expect(
      pairedHarvest({
        base,
        chat: wide,
        names: { base: "toy-base", chat: "wide-chat" },
        hook: TOY_HOOK,
        windows: each(chatWindows(1, 8, 2)),
        windowsPerForward: 1,
        outDir: path.join(dir, "never"),
        dataset: "x",
      }),
    ).rejects.toThrow(/toy-base has width 64 but wide-chat has 32/);
  });
});

describe("diff methods find the planted direction u", () => {
  it("ADL: the leading direction of the bucket means is u; the vector file round-trips through steer's reader", async () => {
    const adl = await activationDifferenceLens(store, { firstPositions: 3 });
    const byName = new Map(adl.buckets.map((b) => [b.name, b]));
    expect(byName.get("all")!.rows).toBe(100 * 23);
    expect(byName.get("position@0")!.rows).toBe(0); // masked
    expect(byName.get("assistant@0")!.rows).toBe(40);
    expect(Math.abs(cosine(adl.leading, files.planted))).toBeGreaterThan(0.9);
    expect(Math.abs(cosine(byName.get("assistant")!.mean, files.planted))).toBeGreaterThan(0.9);
    const lens = await adlLogitLens(chat, adl.leading, 10);
    expect(lens).toHaveLength(10);
    expect(lens[0]!.logit).toBeGreaterThanOrEqual(lens[9]!.logit);
    const file = path.join(dir, "adl-assistant.safetensors");
    await writeAdlSteeringVector(file, adl, "assistant", { base: "toy-base", chat: "toy-chat" });
    expect(Array.from(await readDirectionFile(file))).toEqual(Array.from(byName.get("assistant")!.mean));
    await expect(writeAdlSteeringVector(file, adl, "position@0", { base: "b", chat: "c" })).rejects.toThrow(
      /bucket "position@0" has no rows/,
    );
  });

  it("diff-SAE: a top-5 latent's decoder direction is u", async () => {
    const { top, bias } = await trainDiffSae({
      train: store.source({ batchSize: 64, seed: 1, epochs: 4 }),
      evaluate: store.source({ batchSize: 256 }),
      config: {
        dSae: 32,
        k: 1, // the toy's difference is rank-1 (one plant): with k > 1 TopK splits u over several latents
        lr: 3e-3,
        lrWarmupSteps: 10,
        initSampleTokens: 256,
        checkpointEverySteps: 0,
        logEverySteps: 1000,
        seed: 0,
        hookName: TOY_HOOK,
      },
      outDir: path.join(dir, "diff-sae"),
      topN: 5,
    });
    const best = Math.max(...top.map((l) => Math.abs(cosine(l.direction, files.planted))));
    expect(best).toBeGreaterThan(0.9);
    expect(top[0]!.mass).toBeGreaterThanOrEqual(top[4]!.mass);
    expect(top[0]!.frequency).toBeGreaterThan(0.3); // fires on the chat rows (40 of 100 windows)
    expect(bias.norm).toBeGreaterThan(0);
  }, 30_000);

  it("runDiffMethods writes both methods' results, vectors and cross-cosines to one folder", async () => {
    const out = path.join(dir, "methods");
    const summary = await runDiffMethods({
      store,
      chat,
      outDir: out,
      diffSae: { dSae: 32, k: 1, lr: 3e-3, lrWarmupSteps: 10, initSampleTokens: 256, checkpointEverySteps: 0 },
      train: { batchSize: 64, epochs: 4, seed: 1 },
      topLatents: 5,
      lensTokens: 5,
      decode: (id) => `<${id}>`,
    });
    const adl = JSON.parse(fs.readFileSync(path.join(out, "adl", "adl.json"), "utf8"));
    expect(adl.steeringVectors).toEqual(["adl-all.safetensors", "adl-assistant.safetensors"]);
    expect(adl.leading.lens[0].token).toBe(`<${adl.leading.lens[0].id}>`);
    const leading = await readDirectionFile(path.join(out, "adl", "leading.safetensors"));
    expect(Math.abs(cosine(leading, files.planted))).toBeGreaterThan(0.9);
    const top = JSON.parse(fs.readFileSync(path.join(out, "diff-sae", "top-latents.json"), "utf8"));
    expect(top.latents).toHaveLength(5);
    expect(Math.max(...top.latents.map((l: { cosineToAdl: number }) => Math.abs(l.cosineToAdl)))).toBeGreaterThan(0.9);
    expect(summary.diffSaeTop.map((l) => l.latent)).toEqual(top.latents.map((l: { latent: number }) => l.latent));
    expect(fs.existsSync(path.join(out, "diff-sae", top.sae, "cfg.json"))).toBe(true);
  }, 30_000);
});

describe("crosscoders on the paired store", () => {
  // Measured on this toy (seed 0): BatchTopK finds u in one latent (|cos| 0.94) that Latent Scaling calls
  // chat-specific (ν^r 0.17, ν^ε 0.17) but whose relative decoder norm is only ≈ 0.75 — the "other" band, not
  // chat-only: the latent fires on chat windows, whose base activations it also partly reconstructs. L1 splits u over
  // two latents (|cos| 0.73–0.84, l1Coef 0.1). Asserted: what does happen.
  it("BatchTopK: a latent's chat decoder is u, it leans to chat and Latent Scaling calls it chat-specific", async () => {
    const latents = await runCrosscoderMethod({
      store,
      outDir: path.join(dir, "methods"),
      kind: "batchtopk",
      config: { dSae: 256, k: 4, lr: 1e-2, lrWarmupSteps: 10, initSampleTokens: 256, checkpointEverySteps: 0, seed: 0 },
      train: { batchSize: 64, epochs: 12, seed: 1 },
    });
    const u = latents.find((l) => Math.abs(cosine(l.chatDirection, files.planted)) >= 0.9);
    expect(u).toBeDefined();
    expect(u!.relativeNorm).toBeGreaterThan(0.6);
    expect(u!.chatSpecific).toBe(true);
    const analysis = JSON.parse(
      fs.readFileSync(path.join(dir, "methods", "crosscoder-batchtopk", "analysis.json"), "utf8"),
    );
    expect(analysis.latents.map((l: { latent: number }) => l.latent)).toEqual(latents.map((l) => l.latent));
    expect(analysis.histogram.counts.reduce((a: number, b: number) => a + b, 0)).toBeLessThanOrEqual(256);
  }, 60_000);
});
