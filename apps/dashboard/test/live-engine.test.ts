// The live engine on a real diffing run: its top latents against an independent computation (the hook harvested by a
// full forward with the runtime's cache, the training normalisation applied by hand with the unfolded weights, top-k),
// chat mode, the mask, the caches, and every error named.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { maxActivatingContexts } from "@difflens/app-kit";
import { loadLoraAdapter, loadModel, type Model, mergeLora } from "@difflens/runtime";
import { loadSae } from "@difflens/sae";
import { loadTokenizer } from "@difflens/tokenizer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LiveRequest } from "../src/api/live-types.ts";
import { DashboardError } from "../src/errors.ts";
import { createLiveEngine, type LiveEngine } from "../src/live/live-engine.ts";
import type { DiscoveredRun } from "../src/runs/discovered-run.ts";
import { diffingFixtureRun } from "./fixture/diffing-run.ts";

let RUN_DIR: string;

function discovered(dir: string, id = "."): DiscoveredRun {
  const runJson = JSON.parse(fs.readFileSync(path.join(dir, "run.json"), "utf8")) as Record<string, unknown>;
  return { id, dir: fs.realpathSync(dir), kind: "diffing", runJson, errors: [] };
}

/** A stage's checkpoint folder, relative to the run folder, as stage.json records it. */
function checkpointOf(dir: string, stage: string): string {
  return JSON.parse(fs.readFileSync(path.join(dir, `stages/${stage}/stage.json`), "utf8")).checkpoint;
}

/** The toy pair's folders as the run records them (run.json's toy, the stage's fingerprint for the toy version). */
function toyFolders(dir: string): { base: string; adapter: string } {
  const config = discovered(dir).runJson!.config as { toy: { seed: number; plantScale: number; cacheDir: string } };
  const stage = JSON.parse(fs.readFileSync(path.join(dir, "stages/MF/stage.json"), "utf8"));
  const seedDir = path.resolve(
    dir,
    config.toy.cacheDir,
    `v${stage.fingerprint.model.toy.version}`,
    `seed-${config.toy.seed}`,
  );
  return { base: path.join(seedDir, "base"), adapter: path.join(seedDir, `plant-${config.toy.plantScale}`) };
}

/**
 * Per token, the top-k latents the way training sees them: x·s through the unfolded weights (bEnc·s, bDec·s), TopK,
 * then ÷ s back to the raw-activation units the checkpoint (and the feature pages) report. Float64 throughout.
 */
async function independentTop(model: Model, ids: Int32Array, hook: string, checkpoint: string, topK: number) {
  const { cache } = await model.runWithCache(ids, { names: [hook] });
  const acts = cache.get(hook).data as Float32Array; // [1, seq, dIn]
  const cfg = JSON.parse(fs.readFileSync(path.join(checkpoint, "cfg.json"), "utf8"));
  const s: number = cfg.difflens.normalization.inputScale;
  expect(cfg.difflens.normalization.kind).toBe("unit-mean-squared-norm");
  expect(Math.abs(Math.log(s))).toBeGreaterThan(0.1); // a real rescaling, or this check would prove nothing
  const sae = await loadSae(checkpoint);
  const { wEnc, bEnc, bDec } = sae.weights;
  const { dIn, dSae } = sae;
  const k = sae.k!;
  const out: { latent: number; value: number }[][] = [];
  for (let t = 0; t < ids.length; t++) {
    const pre: { latent: number; value: number }[] = [];
    for (let j = 0; j < dSae; j++) {
      let v = bEnc[j]! * s;
      for (let i = 0; i < dIn; i++) v += (acts[t * dIn + i]! * s - bDec[i]! * s) * wEnc[j * dIn + i]!;
      pre.push({ latent: j, value: v });
    }
    pre.sort((a, b) => b.value - a.value);
    out.push(
      pre
        .slice(0, k)
        .filter((p) => p.value > 0)
        .map((p) => ({ latent: p.latent, value: p.value / s }))
        .slice(0, topK),
    );
  }
  return out;
}

async function code(promise: Promise<unknown>): Promise<{ code: string; facts: Record<string, unknown> }> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(DashboardError);
    const e = error as DashboardError;
    return { code: e.code, facts: e.facts as Record<string, unknown> };
  }
  throw new Error("expected a DashboardError");
}

describe("live engine", () => {
  let run: DiscoveredRun;
  const loads: string[] = [];
  let engine: LiveEngine;
  const req = (r: Omit<LiveRequest, "run">): LiveRequest => ({ run: ".", ...r });

  beforeAll(async () => {
    RUN_DIR = await diffingFixtureRun();
    run = discovered(RUN_DIR);
    engine = createLiveEngine({ maxLoadedModels: 1, log: (line) => loads.push(line) });
  });
  afterAll(() => engine.close());

  it("text mode: each token's top latents equal an independent computation, to 1e-5", async () => {
    const text = "The cat sat on the mat, and then<|endoftext|> it rained.";
    const [a, b] = await Promise.all([
      engine.run(run, req({ stage: "MF", text, topK: 32 })),
      engine.run(run, req({ stage: "MF", text, topK: 3 })),
    ]);
    // Two concurrent requests: one model load, shared.
    expect(loads.filter((l) => l.includes("model")).length).toBe(1);
    expect(a.model).toBe("chat");
    expect(a.hook).toBe("blocks.1.hook_resid_pre");
    const { base, adapter } = toyFolders(RUN_DIR);
    const chat = await mergeLora(await loadModel(base), await loadLoraAdapter(adapter));
    const tokenizer = loadTokenizer(base);
    const { ids } = await tokenizer.encode(text, { addSpecialTokens: false });
    expect(a.tokens.map((t) => t.id)).toEqual(Array.from(ids));
    expect(a.tokens.map((t) => t.text).join("")).toBe(text);
    const checkpoint = path.join(RUN_DIR, checkpointOf(RUN_DIR, "MF"));
    const want = await independentTop(chat, ids, a.hook, checkpoint, 32);
    // Same units as the feature pages: the features command's own encoder (app-kit maxActivatingContexts) on this text.
    const latent = a.tokens[1]!.top[0]!.latent;
    const window = { ids, mask: Uint8Array.from(a.tokens, (t) => (t.scored ? 1 : 0)), length: ids.length };
    const [page] = await maxActivatingContexts({
      ...{ model: chat, sae: await loadSae(checkpoint), hook: a.hook, tokenizer, windows: [window], latents: [latent] },
      ...{ contexts: 1, radius: ids.length, windowsPerForward: 1 },
    });
    const liveValues = a.tokens.map((t) => t.top.find((l) => l.latent === latent)?.value ?? 0);
    expect(page!.examples[0]!.values).toHaveLength(ids.length);
    expect(liveValues.filter((v) => v > 0).length).toBeGreaterThan(0);
    page!.examples[0]!.values.forEach((v, t) => expect(Math.abs(v - liveValues[t]!)).toBeLessThan(1e-4));
    chat.close();
    let compared = 0;
    a.tokens.forEach((token, t) => {
      if (!token.scored) return;
      expect(token.top.map((l) => l.latent)).toEqual(want[t]!.map((l) => l.latent));
      token.top.forEach((l, i) => expect(Math.abs(l.value - want[t]![i]!.value)).toBeLessThan(1e-5));
      expect(b.tokens[t]!.top).toEqual(token.top.slice(0, 3));
      compared += token.top.length;
    });
    expect(compared).toBeGreaterThan(ids.length * 2);
    // The run's mask excludes <|endoftext|>: that token is not scored and has no latents.
    const eot = a.tokens.find((t) => t.text === "<|endoftext|>")!;
    expect(eot).toMatchObject({ scored: false, top: [] });
    expect(a.tokens.filter((t) => !t.scored)).toHaveLength(1);
    expect(a.ms).toBeGreaterThan(0);
  });

  it("chat mode renders the system prompt and the user turn with the chat template, specials unscored", async () => {
    const pirate = await engine.run(run, req({ stage: "D", chat: { system: "You are a pirate.", user: "Hi there" } }));
    expect(pirate.model).toBe("base");
    const text = pirate.tokens.map((t) => t.text).join("");
    expect(text).toBe(
      "<|im_start|>system\nYou are a pirate.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n",
    );
    for (const t of pirate.tokens) {
      const special = t.text === "<|im_start|>" || t.text === "<|im_end|>";
      expect(t.scored).toBe(!special);
      if (special) expect(t.top).toEqual([]);
      else expect(t.top.length).toBeGreaterThan(0);
    }
    const none = await engine.run(run, req({ stage: "D", chat: { system: null, user: "Hi there" } }));
    expect(none.tokens.map((t) => t.text).join("")).toBe(
      "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n",
    );
    const byDefault = await engine.run(run, req({ stage: "D", chat: { system: "model-default", user: "Hi" } }));
    expect(byDefault.tokens.map((t) => t.text).join("")).toContain(
      "<|im_start|>system\nYou are a helpful assistant<|im_end|>",
    );
    // maxLoadedModels 1: the base model replaced the chat model (eviction itself: live-lru-cache.test.ts).
    expect(loads.filter((l) => l.includes("model")).map((l) => l.split(" ")[3])).toEqual(["chat", "base"]);
  });

  it("names every error: stage, checkpoint, model folder, length, request, run kind", async () => {
    expect(await code(engine.run(run, req({ stage: "X" as "S", text: "a" })))).toMatchObject({
      code: "NOT_FOUND",
      facts: { field: "stage" },
    });
    expect((await code(engine.run(run, req({ stage: "D", text: "a ".repeat(3000) })))).code).toBe("BAD_REQUEST");
    expect(await code(engine.run(run, req({ stage: "S", text: "a", topK: 0 })))).toMatchObject({
      code: "BAD_REQUEST",
      facts: { field: "topK" },
    });
    expect(await code(engine.run(run, req({ stage: "S" })))).toMatchObject({ code: "BAD_REQUEST" });
    const readouts = { ...run, kind: "readouts-sae-conditions" as const };
    expect((await code(engine.run(readouts, req({ stage: "S", text: "a" })))).code).toBe("LIVE_UNAVAILABLE");

    // A copy of the run with stage M missing and the toy cache somewhere that does not exist.
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "dashboard-live-"));
    try {
      const runJson = structuredClone(run.runJson!) as { config: { toy: { cacheDir: string } } };
      runJson.config.toy.cacheDir = "no-toy-models-here";
      fs.writeFileSync(path.join(tmp, "run.json"), JSON.stringify(runJson));
      for (const stage of ["D", "MF"])
        fs.cpSync(path.join(RUN_DIR, "stages", stage), path.join(tmp, "stages", stage), { recursive: true });
      const broken = discovered(tmp);
      expect(await code(engine.run(broken, req({ stage: "M", text: "a" })))).toMatchObject({
        code: "NOT_FOUND",
        facts: { file: "stages/M/stage.json" },
      });
      const weights = `${checkpointOf(tmp, "MF")}/sae.safetensors`;
      fs.rmSync(path.join(tmp, weights));
      expect(await code(engine.run(broken, req({ stage: "MF", text: "a" })))).toMatchObject({
        code: "NOT_FOUND",
        facts: { file: weights },
      });
      fs.cpSync(path.join(RUN_DIR, "stages/MF"), path.join(tmp, "stages/MF"), { recursive: true });
      const gone = await code(engine.run(broken, req({ stage: "MF", text: "a" })));
      const base = path.relative(RUN_DIR, toyFolders(RUN_DIR).base).split(path.sep).slice(-3).join("/");
      expect(gone).toMatchObject({ code: "LIVE_UNAVAILABLE", facts: { file: `no-toy-models-here/${base}` } });
      // The real toy cache, but a hook the SAE was not trained on.
      const cacheDir = path.resolve(RUN_DIR, (run.runJson!.config as { toy: { cacheDir: string } }).toy.cacheDir);
      for (const hook of ["blocks.0.attn.hook_pattern", "blocks.9.hook_resid_pre"]) {
        const wrongHook = { ...runJson, config: { ...runJson.config, hook, toy: { ...runJson.config.toy, cacheDir } } };
        fs.writeFileSync(path.join(tmp, "run.json"), JSON.stringify(wrongHook));
        expect(await code(engine.run(discovered(tmp), req({ stage: "D", text: "a" })))).toMatchObject({
          code: "LIVE_UNAVAILABLE",
          facts: { file: "run.json", field: "config.hook" },
        });
      }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("refuses requests after close", async () => {
    const closing = createLiveEngine();
    await closing.close();
    expect((await code(closing.run(run, req({ stage: "S", text: "a" })))).code).toBe("LIVE_UNAVAILABLE");
  });
});
