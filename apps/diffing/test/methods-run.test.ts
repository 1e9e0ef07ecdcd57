/**
 * The methods runner on a tiny configuration of the default toy (few windows, a step or two per method): it writes
 * every file of the run-folder contract, reuses finished units on a rerun and redoes only what a changed setting
 * touches; a crosscoder folder where an SAE is expected (and the reverse) is refused by name.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadCrosscoderCheckpoint } from "@difflens/sae";
import { openSafetensors, useBackend } from "@difflens/tensor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { METHODS_CONFIG } from "../src/cli/methods-commands.ts";
import { type DiffingConfig, resolveDiffingConfig } from "../src/config/diffing-config.ts";
import { type MethodsProgress, type MethodsRunSummary, runMethods } from "../src/methods-run/run-methods.ts";
import { readParentSae } from "../src/models/parent-sae.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "methods-run-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const runDir = path.join(dir, "run");

/** configs/diffing/methods.json, shrunk: 20 windows, tiny dictionaries, one pass, one step per stage. */
function tinyConfig(overrides: Record<string, unknown> = {}): DiffingConfig {
  const json = JSON.parse(fs.readFileSync(METHODS_CONFIG, "utf8"));
  const small = { epochs: 1, initSampleTokens: 64, lrWarmupSteps: 1 };
  return resolveDiffingConfig(
    {
      ...json,
      sae: { ...json.sae, dSae: 32, k: 4, batchSize: 256, checkpointEverySteps: 0 },
      harvest: { windowsPerForward: 4, shuffleRows: 0 }, // the stages' shuffle buffer would harvest 16k rows first
      methods: {
        ...json.methods,
        toy: { ...json.methods.toy, cacheDir: path.join(dir, "toy") },
        harvest: { windows: 20, windowsPerForward: 10 },
        batchTopK: { dSae: 32, k: 2, ...small },
        l1: { dSae: 32, ...small },
        diffSae: { dSae: 16, ...small },
        adl: { lensTokens: 3, firstPositions: 1 },
        stagewise: { tokenScale: 0.001 },
        topLatents: 3,
        ...overrides,
      },
    },
    path.dirname(METHODS_CONFIG),
    METHODS_CONFIG,
  );
}

const readJson = (...p: string[]) => JSON.parse(fs.readFileSync(path.join(runDir, ...p), "utf8"));
let first: MethodsRunSummary;
const events: MethodsProgress[] = [];

beforeAll(async () => {
  useBackend("auto");
  first = await runMethods(tinyConfig(), { outDir: runDir, onProgress: (p) => events.push(p) });
}, 60_000);

describe("runMethods on a tiny toy run", () => {
  it("writes every file of the run-folder contract", async () => {
    const m = readJson("methods.json");
    expect(m).toMatchObject({ format: "difflens-methods-run", version: 1, store: "store" });
    expect(m.methods).toEqual({
      crosscoderBatchTopK: "crosscoder-batchtopk",
      crosscoderL1: "crosscoder-l1",
      diffSae: "diff-sae",
      adl: "adl",
      stagewise: "stagewise",
    });
    expect(Object.keys(m.timings).sort()).toEqual(
      ["adl", "crosscoderBatchTopK", "crosscoderL1", "diffSae", "harvest", "stagewise"].sort(),
    );
    expect(m.hook).toBe(m.toy.hook);
    expect(m.config.harvest.windows).toBe(20);
    for (const file of [
      "store/manifest.json",
      "adl/adl.json",
      "adl/leading.safetensors",
      "diff-sae/top-latents.json",
      "diff-sae/top-latents.safetensors",
      "stagewise/top-latents.json",
      "stagewise/top-latents.safetensors",
      "stagewise/pipeline/stages/MF/stage.json",
    ])
      expect(fs.existsSync(path.join(runDir, file)), file).toBe(true);
    for (const kind of ["batchtopk", "l1"]) {
      expect(fs.existsSync(path.join(runDir, `crosscoder-${kind}`, "analysis.json"))).toBe(true);
      expect(fs.existsSync(path.join(runDir, `crosscoder-${kind}`, "latents.safetensors"))).toBe(true);
      expect(readJson(`crosscoder-${kind}`, "relative-norms.json").relativeNorms).toHaveLength(32);
    }
    const plants = await openSafetensors(path.join(runDir, "plants.safetensors"));
    expect(plants.keys().sort()).toEqual([...m.toy.plants].sort());
    plants.close();
    expect(readJson("stagewise", "top-latents.json").latents).toHaveLength(3);
  });

  it("lists unit headline directions of every method, in directions.json's order", async () => {
    const { directions, dIn } = readJson("directions.json");
    const names = directions.map((d: { name: string }) => d.name);
    expect(names[0]).toBe("adl/leading");
    for (const method of ["diff-sae", "crosscoder-batchtopk", "crosscoder-l1", "stagewise"])
      expect(names.some((n: string) => n.startsWith(`${method}/latent-`))).toBe(true);
    expect(names).toContain("stagewise/leading-change");
    const f = await openSafetensors(path.join(runDir, "directions.safetensors"));
    for (const name of names) {
      const v = f.get(name).data as Float32Array;
      expect(v.length).toBe(dIn);
      expect(Math.hypot(...v)).toBeCloseTo(1, 4);
    }
    f.close();
    expect(first.directions).toBe(names.length);
  });

  it("reports progress of the harvest and of every trained method, each ending at its total", () => {
    for (const unit of ["harvest", "crosscoderBatchTopK", "crosscoderL1", "diffSae"]) {
      const last = events.filter((e) => e.unit === unit).at(-1);
      expect(last, unit).toBeDefined();
      expect(last!.done).toBe(last!.total);
    }
  });

  it("reuses every finished unit on a rerun and redoes only what a changed setting touches", async () => {
    const again = await runMethods(tinyConfig(), { outDir: runDir });
    expect([...again.reused].sort()).toEqual(
      ["adl", "crosscoderBatchTopK", "crosscoderL1", "diffSae", "stagewise", "store"].sort(),
    );
    expect(again.timings).toEqual(first.timings);
    const before = readJson("crosscoder-l1", "method.json");
    const changed = await runMethods(tinyConfig({ l1: { dSae: 32, l1Coef: 0.2, epochs: 1, initSampleTokens: 64 } }), {
      outDir: runDir,
    });
    expect(changed.reused).not.toContain("crosscoderL1");
    expect(changed.reused).toContain("crosscoderBatchTopK");
    expect(readJson("crosscoder-l1", "method.json").hash).not.toBe(before.hash);
    expect(fs.readdirSync(runDir).filter((f) => f.startsWith("."))).toEqual([]); // no temp folder left
  }, 30_000);

  it("refuses a non-empty folder that holds no methods run, before writing anything", async () => {
    const foreign = path.join(dir, "foreign");
    fs.mkdirSync(foreign);
    fs.writeFileSync(path.join(foreign, "notes.txt"), "mine");
    await expect(runMethods(tinyConfig(), { outDir: foreign })).rejects.toThrow(
      /is not empty and holds no methods run/,
    );
    expect(fs.readdirSync(foreign)).toEqual(["notes.txt"]);
  });

  it("refuses a crosscoder where an SAE is expected (finetune --from) and an SAE where a crosscoder is", async () => {
    await expect(readParentSae(path.join(runDir, "crosscoder-batchtopk"))).rejects.toThrow(
      /is a crosscoder checkpoint \(cfg.json \+ crosscoder.safetensors\), not an SAE/,
    );
    const stageS = path.join(runDir, "stagewise", "pipeline", "stages", "S");
    const latest = JSON.parse(fs.readFileSync(path.join(stageS, "latest.json"), "utf8")).checkpoint;
    await expect(loadCrosscoderCheckpoint(path.join(stageS, latest))).rejects.toThrow(
      /is an SAE checkpoint .*not a crosscoder/,
    );
  });
});
