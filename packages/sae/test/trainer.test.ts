import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { type ActivationSource, Rng, Tensor } from "@difflens/tensor";
import { afterAll, describe, expect, it } from "vitest";
import { loadCheckpoint } from "../src/checkpoint.ts";
import type { SaeError } from "../src/errors.ts";
import { trainSae } from "../src/train/trainer.ts";
import { relErr } from "./helpers.ts";

const root = mkdtempSync(path.join(tmpdir(), "difflens-sae-trainer-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const dir = (name: string) => path.join(root, name);

/** Deterministic Gaussian batches with a mean offset; `poison` puts a NaN into one batch. */
function source(
  dIn: number,
  batches: number,
  seed: number,
  poison?: { batch: number; row: number; col: number },
): ActivationSource {
  return {
    dIn,
    async *[Symbol.asyncIterator]() {
      const rng = new Rng(seed);
      for (let b = 0; b < batches; b++) {
        const x = new Float32Array(32 * dIn);
        for (let i = 0; i < x.length; i++) x[i] = rng.normal() * 2 + (i % dIn) * 0.1;
        if (poison && poison.batch === b) x[poison.row * dIn + poison.col] = Number.NaN;
        yield new Tensor("f32", [32, dIn], x);
      }
    },
  };
}

const base = {
  dIn: 16,
  dSae: 64,
  k: 4,
  lr: 3e-3,
  lrWarmupSteps: 2,
  deadAfterTokens: 96,
  initSampleTokens: 64,
  logEverySteps: 2,
  seed: 5,
  normalizeActivations: "unit-mean-squared-norm",
};

describe("trainSae", () => {
  it("resumes exactly: a run killed after step 7 and resumed equals an uninterrupted run bitwise", async () => {
    const cfg = { ...base, maxSteps: 12, checkpointEverySteps: 3, keepCheckpoints: 1 };
    const full = await trainSae({ config: cfg, source: source(16, 20, 1), outDir: dir("full") });
    const logged: number[] = [];
    const killed = await trainSae({
      config: cfg,
      source: source(16, 20, 1),
      outDir: dir("killed"),
      onStep: (s) => (s.step === 7 ? "stop" : undefined),
    });
    expect(killed.stoppedEarly).toBe(true);
    const resumed = await trainSae({
      config: cfg,
      source: source(16, 20, 1),
      outDir: dir("killed"),
      resume: true,
      logger: { log: (_m, s) => logged.push(s) },
    });
    expect(logged[0]).toBe(8); // continued from the step-6 checkpoint
    expect(resumed.state.step).toBe(12);
    for (const n of ["wEnc", "bEnc", "wDec", "bDec"] as const) {
      expect(Buffer.from(resumed.state.params[n].buffer).equals(Buffer.from(full.state.params[n].buffer)), n).toBe(
        true,
      );
      expect(Buffer.from(resumed.state.adamV[n].buffer).equals(Buffer.from(full.state.adamV[n].buffer)), n).toBe(true);
    }
    expect(Array.from(resumed.state.sinceFired)).toEqual(Array.from(full.state.sinceFired));
    expect(resumed.state.rng.state()).toEqual(full.state.rng.state());
    expect(resumed.state.batchesSeen).toBe(full.state.batchesSeen);
  });

  it("finetunes from a checkpoint with lineage, keeping or resetting the optimizer", async () => {
    const parent = await trainSae({
      config: { ...base, maxSteps: 6, checkpointEverySteps: 0 },
      source: source(16, 10, 2),
      outDir: dir("stage-s"),
    });
    const parentDir = parent.finalDir!;
    for (const optimizer of ["keep", "reset"] as const) {
      const child = await trainSae({
        config: { ...base, maxSteps: 4, checkpointEverySteps: 0 },
        source: source(16, 10, 3),
        outDir: dir(`stage-d-${optimizer}`),
        finetuneFrom: { path: parentDir, optimizer },
      });
      const ck = await loadCheckpoint(child.finalDir!);
      expect(ck.block.lineage).toHaveLength(1);
      expect(ck.block.lineage[0]!.path).toBe(parentDir);
      expect(ck.block.lineage[0]!.step).toBe(6);
      expect(ck.block.lineage[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(child.state.adamT).toBe(optimizer === "keep" ? 10 : 4);
      // Same latents: decoder rows moved but stay close to the parent's.
      const moved = relErr(child.sae.weights.wDec, parent.sae.weights.wDec);
      expect(moved).toBeGreaterThan(0);
      expect(moved).toBeLessThan(0.5);
      const grand = await trainSae({
        config: { ...base, maxSteps: 2, checkpointEverySteps: 0 },
        source: source(16, 10, 4),
        outDir: dir(`stage-df-${optimizer}`),
        finetuneFrom: { path: child.finalDir!, optimizer },
      });
      expect((await loadCheckpoint(grand.finalDir!)).block.lineage.map((l) => l.step)).toEqual([4, 6]);
    }
  });

  it("saved SAE takes raw activations: folded input scale reproduces the training-space forward", async () => {
    const res = await trainSae({
      config: { ...base, maxSteps: 3, checkpointEverySteps: 0 },
      source: source(16, 5, 6),
      outDir: dir("fold"),
    });
    expect(res.state.inputScale).not.toBe(1);
    const ck = await loadCheckpoint(res.finalDir!);
    const cfgJson = JSON.parse(readFileSync(path.join(res.finalDir!, "cfg.json"), "utf8"));
    expect(cfgJson.difflens.normalization.inputScale).toBe(res.state.inputScale);
    expect(cfgJson.d_in).toBe(16);
    expect(cfgJson.num_latents).toBe(64);
    const x = new Float32Array(16).map((_, i) => Math.sin(i) * 3);
    const s = res.state.inputScale;
    // training-space reconstruction of s·x, divided by s, equals the saved SAE on raw x
    const p = res.state.params;
    const z = new Float64Array(64);
    for (let j = 0; j < 64; j++) {
      let acc = p.bEnc[j]!;
      for (let i = 0; i < 16; i++) acc += (s * x[i]! - p.bDec[i]!) * p.wEnc[j * 16 + i]!;
      z[j] = acc;
    }
    const top = Array.from(z.keys())
      .sort((a, b) => z[b]! - z[a]!)
      .slice(0, 4);
    const want = new Float64Array(16);
    for (let i = 0; i < 16; i++) {
      let acc = p.bDec[i]!;
      for (const j of top) acc += Math.max(z[j]!, 0) * p.wDec[j * 16 + i]!;
      want[i] = acc / s;
    }
    const got = res.sae.forward(new Tensor("f32", [1, 16], x)).data as Float32Array;
    expect(relErr(got, want)).toBeLessThan(1e-5);
    expect(relErr(ck.weights.bDec, res.sae.weights.bDec)).toBe(0);
  });

  it("rejects bad input with clear errors", async () => {
    const err = async (p: Promise<unknown>): Promise<SaeError> => {
      try {
        await p;
      } catch (e) {
        return e as SaeError;
      }
      throw new Error("no error");
    };
    const typo = await err(
      trainSae({ config: { ...base, deadAfterTokenz: 5 }, source: source(16, 2, 1), outDir: dir("typo") }),
    );
    expect(typo.code).toBe("CONFIG_UNKNOWN_KEY");
    expect(typo.message).toContain('did you mean "deadAfterTokens"');
    const width = await err(trainSae({ config: base, source: source(12, 2, 1), outDir: dir("width") }));
    expect(width.code).toBe("D_IN_MISMATCH");
    expect(width.message).toMatch(/dIn=12.*dIn=16/);

    // NaN at batch 5 (step 6): error names step and batch; the step-4 checkpoint stays the latest.
    const nanDir = dir("nan");
    const nan = await err(
      trainSae({
        config: { ...base, maxSteps: 10, checkpointEverySteps: 2 },
        source: source(16, 10, 1, { batch: 5, row: 3, col: 7 }),
        outDir: nanDir,
      }),
    );
    expect(nan.code).toBe("NON_FINITE_ACTIVATIONS");
    expect(nan.message).toContain("step 6, batch 5, row 3, column 7");
    const latest = JSON.parse(readFileSync(path.join(nanDir, "latest.json"), "utf8"));
    expect(latest.step).toBe(4);
    expect((await loadCheckpoint(path.join(nanDir, latest.checkpoint))).train!.state.step).toBe(4);

    // A checkpoint for another size.
    const other = await trainSae({
      config: { ...base, dSae: 32, maxSteps: 2, checkpointEverySteps: 0 },
      source: source(16, 3, 1),
      outDir: dir("other"),
    });
    const mismatch = await err(
      trainSae({
        config: { ...base, maxSteps: 2 },
        source: source(16, 3, 1),
        outDir: dir("ft-mismatch"),
        finetuneFrom: { path: other.finalDir!, optimizer: "reset" },
      }),
    );
    expect(mismatch.code).toBe("CHECKPOINT_MISMATCH");
    expect(mismatch.message).toContain("dSae=32");

    // Truncated sae.safetensors: the recorded hash catches it.
    const trunc = path.join(other.finalDir!, "sae.safetensors");
    truncateSync(trunc, 100);
    const corrupt = await err(loadCheckpoint(other.finalDir!));
    expect(corrupt.code).toBe("CHECKPOINT_CORRUPT");
    expect(corrupt.message).toContain("sae.safetensors");
    // Without state.json the safetensors parser itself reports the truncation.
    rmSync(path.join(other.finalDir!, "state.json"));
    const parse = await err(loadCheckpoint(other.finalDir!));
    expect(parse.code).toBe("CHECKPOINT_CORRUPT");
    writeFileSync(path.join(other.finalDir!, "cfg.json"), "{not json");
    expect((await err(loadCheckpoint(other.finalDir!))).code).toBe("CHECKPOINT_CORRUPT");
    expect(existsSync(path.join(dir("other"), "latest.json"))).toBe(true);
  });
});
