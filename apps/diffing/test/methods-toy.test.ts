/**
 * Issue 21's known answer: the methods toy's plants do what they claim, then every method finds what was planted,
 * with the training defaults the runner uses (METHODS_TOY_TRAINING). One paired store per variant, shared by all
 * assertions. Numbers measured on this toy are in the README's methods section.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadModel, type Model } from "@difflens/runtime";
import { type Crosscoder, loadCrosscoder, relativeDecoderNorms } from "@difflens/sae";
import { openSafetensors, useBackend } from "@difflens/tensor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cosine } from "../src/compare/leading-direction.ts";
import {
  afterTrigger,
  ensureMethodsToy,
  METHODS_TOY_SCALES,
  type MethodsToy,
  type MethodsToyVariant,
  methodsToyWindowKind,
  PairedStore,
  pairedHarvest,
  runCrosscoderMethod,
  runDiffMethods,
  METHODS_TOY_TRAINING as T,
} from "../src/index.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "methods-toy-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Pair {
  toy: MethodsToy;
  chat: Model;
  store: PairedStore;
  out: string;
}
const pairs = new Map<MethodsToyVariant, Pair>();
const opened: Model[] = [];

async function* each<X>(xs: X[]): AsyncGenerator<X> {
  yield* xs;
}

async function harvestPair(variant: MethodsToyVariant): Promise<Pair> {
  const toy = await ensureMethodsToy(path.join(dir, "toys"), { variant });
  const [base, chat] = [await loadModel(toy.baseDir), await loadModel(toy.chatDir)];
  opened.push(base, chat);
  const out = path.join(dir, variant);
  await pairedHarvest({
    base,
    chat,
    names: { base: "toy-base", chat: `toy-${variant}` },
    hook: toy.hook,
    windows: each(toy.windows(T.windows, T.windowSeed)),
    windowsPerForward: T.windowsPerForward,
    outDir: path.join(out, "store"),
    dataset: "methods toy windows",
  });
  return { toy, chat, store: PairedStore.open(path.join(out, "store")), out };
}

beforeAll(async () => {
  useBackend("auto");
  for (const v of ["three-plant", "control"] as const) pairs.set(v, await harvestPair(v));
}, 60_000);
afterAll(() => {
  for (const m of opened) m.close();
});

const dot = (a: ArrayLike<number>, b: ArrayLike<number>, o = 0) => {
  let s = 0;
  for (let i = 0; i < b.length; i++) s += a[o + i]! * b[i]!;
  return s;
};
const absCos = (a: Float32Array, b: Float32Array) => Math.abs(cosine(a, b));

/** (chat − base) at every stored row with where it came from. */
async function differences(pair: Pair) {
  const windows = pair.toy.windows(T.windows, T.windowSeed);
  const rows: { kind: string; after: boolean; diff: Float32Array }[] = [];
  for await (const s of pair.store.shards())
    for (let r = 0; r < s.rows; r++) {
      const w = s.window[r]!;
      const d = pair.store.dIn;
      const diff = Float32Array.from({ length: d }, (_, i) => s.chat[r * d + i]! - s.base[r * d + i]!);
      rows.push({ kind: methodsToyWindowKind(w), after: afterTrigger(windows[w]!)[s.position[r]!]!, diff });
    }
  return rows;
}

describe("the methods toy's plants", () => {
  it("deliver u, v and f ×2 as PEFT adapters and write what they claim at the hook", async () => {
    const { toy } = pairs.get("three-plant")!;
    const { u, v, f } = toy.plants as Record<string, Float32Array>;
    for (const [a, b] of [
      [u, v],
      [u, f],
      [v, f],
    ] as const)
      expect(Math.abs(dot(a!, b!))).toBeLessThan(1e-5);
    const modules = toy.adapterDirs.map(
      (a) => JSON.parse(fs.readFileSync(path.join(a, "adapter_config.json"), "utf8")).target_modules,
    );
    const kvo = ["k_proj", "v_proj", "o_proj"].map((m) => `model.layers.0.self_attn.${m}`);
    expect(modules).toEqual([kvo, kvo, ["model.layers.0.self_attn.o_proj"]]);

    const m = toy.residualMedian;
    const rows = await differences(pairs.get("three-plant")!);
    const chat = rows.filter((r) => r.kind !== "text");
    const along = (rs: typeof rows, p: Float32Array) => rs.map((r) => dot(r.diff, p));
    // u on every chat row, ≈ scales.u × the median residual norm.
    const uChat = along(chat, u!);
    expect(Math.min(...uChat) / (METHODS_TOY_SCALES.u * m)).toBeGreaterThan(0.85);
    expect(Math.max(...uChat) / (METHODS_TOY_SCALES.u * m)).toBeLessThan(1.15);
    // u is gated by the chat template: on plain text (without the trigger, whose head moves it slightly) nothing.
    const text = rows.filter((r) => r.kind === "text" && !r.after);
    expect(Math.max(...along(text, u!).map(Math.abs))).toBeLessThan(0.05 * m);
    // v from the trigger on (fading with distance), nowhere else.
    expect(
      Math.min(
        ...along(
          rows.filter((r) => r.after),
          v!,
        ),
      ),
    ).toBeGreaterThan(0.25 * m);
    expect(
      Math.max(
        ...along(
          rows.filter((r) => !r.after),
          v!,
        ).map(Math.abs),
      ),
    ).toBeLessThan(0.06 * m);
    // Plain text without the trigger: f's change only (the f head's write again), nothing off f.
    const plain = rows.filter((r) => r.kind === "text" && !r.after);
    const offF = plain.map((r) => Math.hypot(...r.diff.map((x, i) => x - dot(r.diff, f!) * f![i]!)));
    expect(offF.reduce((a, b) => a + b, 0) / offF.length).toBeLessThan(0.05 * m);
    expect(along(plain, f!).reduce((a, b) => a + b, 0) / plain.length).toBeGreaterThan(0.1 * m);
    // ×2: the adapter's write along f equals the base head's (o_proj of head 2 on its value direction).
    const [baseW, fAdapter] = [
      await openSafetensors(path.join(toy.baseDir, "model.safetensors")),
      await openSafetensors(path.join(toy.adapterDirs[2]!, "adapter_model.safetensors")),
    ];
    const a = fAdapter.get("base_model.model.model.layers.0.self_attn.o_proj.lora_A.weight").data as Float32Array;
    const b = fAdapter.get("base_model.model.model.layers.0.self_attn.o_proj.lora_B.weight").data as Float32Array;
    const oProj = baseW.get("model.layers.0.self_attn.o_proj.weight").data as Float32Array; // [64, 64]
    const baseWrite = Float32Array.from({ length: 64 }, (_, row) => dot(oProj, a, row * 64));
    const added = dot(a, a) * dot(b, f!);
    expect(dot(baseWrite, f!) / added).toBeCloseTo(1, 1);
    baseW.close();
    fAdapter.close();
  });
});

/** The crosscoder's checkpoint as trained by runCrosscoderMethod. */
async function trainedCrosscoder(out: string, kind: string): Promise<Crosscoder> {
  const folder = path.join(out, `crosscoder-${kind}`);
  const analysis = JSON.parse(fs.readFileSync(path.join(folder, "analysis.json"), "utf8"));
  return loadCrosscoder(path.join(folder, analysis.crosscoder));
}

const crosscoder = (pair: Pair, kind: "batchtopk" | "l1") =>
  runCrosscoderMethod({
    store: pair.store,
    outDir: pair.out,
    kind,
    config: kind === "batchtopk" ? T.crosscoderBatchTopK : T.crosscoderL1,
    train: T.crosscoderTrain,
  });
const diffMethods = (pair: Pair) =>
  runDiffMethods({
    store: pair.store,
    chat: pair.chat,
    outDir: pair.out,
    diffSae: T.diffSae,
    train: T.diffSaeTrain,
    topLatents: 5,
    lensTokens: 5,
    decode: pair.toy.decode,
  });

describe("the methods on the three-plant toy", () => {
  it("BatchTopK: u and v are chat-only and chat-specific; f is one shared latent whose ratio moved to chat", async () => {
    const pair = pairs.get("three-plant")!;
    const { u, v, f } = pair.toy.plants as Record<string, Float32Array>;
    const latents = await crosscoder(pair, "batchtopk");
    for (const p of [u!, v!]) {
      const hit = latents.find((l) => absCos(l.chatDirection, p) >= 0.9);
      expect(hit).toMatchObject({ band: "chat-only", chatSpecific: true });
      expect(hit!.relativeNorm).toBeGreaterThanOrEqual(0.9);
    }
    const cc = await trainedCrosscoder(pair.out, "batchtopk");
    const rel = relativeDecoderNorms(cc);
    const fLatent = Array.from(rel.keys()).reduce((best, j) =>
      absCos(cc.decoderRow(j, "chat"), f!) > absCos(cc.decoderRow(best, "chat"), f!) ? j : best,
    );
    expect(absCos(cc.decoderRow(fLatent, "chat"), f!)).toBeGreaterThan(0.9);
    expect(absCos(cc.decoderRow(fLatent, "base"), f!)).toBeGreaterThan(0.9); // present in both models
    expect(rel[fLatent]).toBeGreaterThan(0.5); // moved toward chat (×2 → 2/3)…
    expect(rel[fLatent]).toBeLessThan(0.7); // …but shared, not chat-only
  }, 30_000);

  it("L1 (λ 1): u and v chat-only and chat-specific, and an artifact emerges — a chat-only latent carrying the shared f that Latent Scaling flags", async () => {
    const pair = pairs.get("three-plant")!;
    const { u, v, f } = pair.toy.plants as Record<string, Float32Array>;
    const chatOnly = (await crosscoder(pair, "l1")).filter((l) => l.band === "chat-only");
    for (const p of [u!, v!])
      expect(chatOnly.some((l) => l.chatSpecific && absCos(l.chatDirection, p) >= 0.9)).toBe(true);
    // Measured: one latent, chat decoder 0.84·u + 0.53·f, relative norm 0.98, ν_rec 0.73 (trained, not constructed).
    const artifacts = chatOnly.filter((l) => !l.chatSpecific);
    expect(artifacts.length).toBeGreaterThanOrEqual(1);
    expect(Math.max(...artifacts.map((l) => absCos(l.chatDirection, f!)))).toBeGreaterThan(0.4);
    // The other side of the finding: at λ 0.2 (L0 ≈ 7.3, matched to the BatchTopK's) no artifact emerges on this toy.
    const matched = await runCrosscoderMethod({
      store: pair.store,
      outDir: path.join(pair.out, "l1-matched"),
      kind: "l1",
      config: { ...T.crosscoderL1, l1Coef: 0.2 },
      train: T.crosscoderTrain,
    });
    const matchedChatOnly = matched.filter((l) => l.band === "chat-only");
    expect(matchedChatOnly.every((l) => l.chatSpecific)).toBe(true);
    for (const p of [u!, v!]) expect(matchedChatOnly.some((l) => absCos(l.chatDirection, p) >= 0.9)).toBe(true);
  }, 30_000);

  it("diff-SAE: u and v among its top 5; ADL: the leading direction is u", async () => {
    const pair = pairs.get("three-plant")!;
    const { u, v } = pair.toy.plants as Record<string, Float32Array>;
    const { adlLeading, diffSaeTop } = await diffMethods(pair);
    for (const p of [u!, v!]) expect(Math.max(...diffSaeTop.map((l) => absCos(l.direction, p)))).toBeGreaterThan(0.9);
    expect(absCos(adlLeading, u!)).toBeGreaterThan(0.9);
  }, 30_000);
});

describe("the methods on the control (w planted, u never)", () => {
  it("every method finds w and nothing along u", async () => {
    const pair = pairs.get("control")!;
    const { w, u } = pair.toy.plants as Record<string, Float32Array>;
    for (const kind of ["batchtopk", "l1"] as const) {
      const latents = await crosscoder(pair, kind);
      expect(latents.some((l) => l.band === "chat-only" && absCos(l.chatDirection, w!) >= 0.9)).toBe(true);
      const cc = await trainedCrosscoder(pair.out, kind);
      let most = 0;
      for (let j = 0; j < cc.spec.dSae; j++)
        for (const side of ["base", "chat"] as const) {
          const d = cc.decoderRow(j, side);
          if (Math.hypot(...d) > 0) most = Math.max(most, absCos(d, u!));
        }
      expect(most).toBeLessThanOrEqual(0.5);
    }
    const { adlLeading, diffSaeTop } = await diffMethods(pair);
    expect(Math.max(...diffSaeTop.map((l) => absCos(l.direction, w!)))).toBeGreaterThan(0.9);
    expect(Math.max(...diffSaeTop.map((l) => absCos(l.direction, u!)))).toBeLessThanOrEqual(0.5);
    expect(absCos(adlLeading, w!)).toBeGreaterThan(0.9);
    expect(absCos(adlLeading, u!)).toBeLessThanOrEqual(0.5);
  }, 30_000);
});
