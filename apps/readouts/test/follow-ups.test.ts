import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createRandomQwen2, patchActivation, zeroAblateMlp } from "@difflens/runtime";
import { Tensor, toFloat32Array } from "@difflens/tensor";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../src/cli/main.ts";
import { ablatedProbabilities, ablatePersonaResult } from "../src/follow-ups/ablate-mlp.ts";
import { dlaPersonaResult, dlaReadout } from "../src/follow-ups/dla.ts";
import { lensPersonaResult, logitLensReadout } from "../src/follow-ups/logit-lens.ts";
import { patchedProbabilities, patchPersonaResult, patchSource } from "../src/follow-ups/patch.ts";
import {
  BATCH,
  base,
  CONFIG,
  directProbability,
  MARKER,
  PLANT,
  SEQUENCES,
  trained,
  writeFollowUpRun,
} from "./follow-ups-fixture.ts";

describe("follow-ups on two models differing only in one MLP", () => {
  it("the plant raises P(marker)", async () => {
    const p: number[][] = [];
    for (const s of SEQUENCES) p.push([await directProbability(base, s), await directProbability(trained, s)]);
    for (const [pBase, pTrained] of p) expect(pTrained).toBeGreaterThan(pBase! + 0.3);
  });

  it("logit-lens: the marker logit rises most at the planted layer; below it trained = comparator", async () => {
    const t = await logitLensReadout(trained, SEQUENCES, MARKER, BATCH);
    const c = await logitLensReadout(base, SEQUENCES, MARKER, BATCH);
    const r = lensPersonaResult("p", t, c);
    expect(r.trained.riseLayer).toBe(PLANT);
    expect(r.difference!.riseLayer).toBe(PLANT);
    for (let l = 0; l <= PLANT; l++) expect(Math.abs(r.difference!.logit[l]!.mean)).toBeLessThan(1e-5);
    for (const [i, s] of SEQUENCES.entries()) {
      expect(t.probability[i]!.at(-1)).toBeCloseTo(await directProbability(trained, s), 5);
    }
  });

  it("patch: locus at the planted layer; ΔP matches a direct computation", async () => {
    for (const positions of ["emit", "all"] as const) {
      const source = await patchSource(trained, SEQUENCES, MARKER, positions, BATCH);
      const comparator = await patchedProbabilities(base, SEQUENCES, MARKER, source, BATCH);
      const r = patchPersonaResult("p", positions, source.trainedProbability, comparator);
      expect(r.locus).toBe(PLANT);
      for (let L = 0; L < PLANT; L++) expect(Math.abs(r.deltaP[L]!.mean)).toBeLessThan(1e-6);
      for (const [i, s] of SEQUENCES.entries()) {
        const pTrained = await directProbability(trained, s);
        const pBase = await directProbability(base, s);
        expect(comparator.clean[i]).toBeCloseTo(pBase, 5);
        expect(source.trainedProbability[i]).toBeCloseTo(pTrained, 5);
        // the last layer's patch hands the comparator the trained final residual stream
        expect(comparator.patched[CONFIG.nLayers - 1]![i]).toBeCloseTo(pTrained, 5);
        // the planted layer's patch, recomputed on the sequence alone
        const { cache } = await trained.runWithCache(s, { names: [`blocks.${PLANT}.hook_resid_post`] });
        const resid = cache.get(`blocks.${PLANT}.hook_resid_post`);
        const patched = await directProbability(base, s, [
          patchActivation(`blocks.${PLANT}.hook_resid_post`, resid, positions === "emit" ? { positions: [-1] } : {}),
        ]);
        expect(comparator.patched[PLANT]![i]).toBeCloseTo(patched, 5);
      }
    }
  });

  it("patch refuses a comparator of another shape", async () => {
    const source = await patchSource(trained, SEQUENCES.slice(0, 2), MARKER, "emit", BATCH);
    const shallow = createRandomQwen2({ config: { ...CONFIG, nLayers: 3 }, seed: 2 });
    await expect(patchedProbabilities(shallow, SEQUENCES.slice(0, 2), MARKER, source, BATCH)).rejects.toThrow(
      /comparator has 3 layers of width 32, the trained model 4/,
    );
  });

  it("ablate-mlp: zero-ablation drops P(marker) most at the planted layer; drops match a direct computation", async () => {
    const zero = await ablatedProbabilities(trained, SEQUENCES, MARKER, "zero", BATCH);
    expect(ablatePersonaResult("p", "zero", zero).peak).toBe(PLANT);
    // mean-ablation replaces the output at t* − 1 by its mean over every position of every sequence
    const mean = await ablatedProbabilities(trained, SEQUENCES, MARKER, "mean", BATCH);
    const name = `blocks.${PLANT}.hook_mlp_out`;
    const sum = new Float64Array(CONFIG.dModel);
    let count = 0;
    for (const s of SEQUENCES) {
      const out = toFloat32Array((await trained.runWithCache(s, { names: [name] })).cache.get(name));
      out.forEach((v, k) => {
        sum[k % CONFIG.dModel]! += v;
      });
      count += s.length;
    }
    const meanOut = new Tensor(
      "f32",
      [1, 1, CONFIG.dModel],
      Float32Array.from(sum, (v) => v / count),
    );
    for (const [i, s] of SEQUENCES.entries()) {
      expect(zero.clean[i]).toBeCloseTo(await directProbability(trained, s), 5);
      const zeroed = await directProbability(trained, s, [zeroAblateMlp(PLANT, { positions: [-1] })]);
      expect(zero.ablated[PLANT]![i]).toBeCloseTo(zeroed, 5);
      const meaned = await directProbability(trained, s, [patchActivation(name, meanOut, { positions: [-1] })]);
      expect(mean.ablated[PLANT]![i]).toBeCloseTo(meaned, 5);
    }
  });

  it("dla: components sum to the marker logit; the planted MLP tops the trained − comparator difference", async () => {
    const t = await dlaReadout(trained, SEQUENCES, MARKER, BATCH);
    const c = await dlaReadout(base, SEQUENCES, MARKER, BATCH);
    for (const [i, s] of SEQUENCES.entries()) {
      const logits = toFloat32Array(await trained.forward(s, { logits: "last" }));
      expect(t.logit[i]).toBeCloseTo(logits[MARKER]!, 4);
    }
    const r = dlaPersonaResult("p", { nLayers: CONFIG.nLayers, nHeads: CONFIG.nHeads }, t, c);
    expect(r.topDifference![0]!.component).toBe(`L${PLANT}.MLP`);
    expect(r.topTrained[0]!.component).toBe(`L${PLANT}.MLP`);
  });
});

describe("follow-up commands over a run folder", () => {
  let dir: string;
  let runDir: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "follow-ups-"));
    runDir = await writeFollowUpRun(dir);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const cli = async (...argv: string[]) => {
    const lines: string[] = [];
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      out.push(String(chunk));
      return true;
    });
    try {
      const code = await main(argv, (line) => lines.push(line));
      return { code, lines, out: out.join("") };
    } finally {
      spy.mockRestore();
    }
  };
  const results = (command: string) =>
    JSON.parse(fs.readFileSync(path.join(runDir, "follow-ups", command, "results.json"), "utf8"));

  it("each command writes results, examples and figures and names the planted layer", async () => {
    type Persona = {
      trained: { riseLayer: number };
      locus: number;
      peak: number;
      topDifference: { component: string }[];
    };
    const expected: Record<string, (r: Persona) => unknown> = {
      "logit-lens": (r) => r.trained.riseLayer,
      patch: (r) => r.locus,
      "ablate-mlp": (r) => r.peak,
      dla: (r) => r.topDifference[0]?.component,
    };
    for (const [command, pick] of Object.entries(expected)) {
      const { code, out } = await cli(command, "--run-dir", runDir);
      expect(code, command).toBe(0);
      expect(out).toMatch(new RegExp(`^${command}`));
      const r = results(command);
      expect(pick(r.personas[0])).toBe(command === "dla" ? `L${PLANT}.MLP` : PLANT);
      expect(r.skipped).toEqual([{ persona: "silent", reason: expect.stringMatching(/no positives/) }]);
      expect(r.markerId).toBe(MARKER);
      const files = fs.readdirSync(path.join(runDir, "follow-ups", command));
      expect(files).toContain("examples.jsonl");
      expect(files.some((f) => f.endsWith(".png")) && files.some((f) => f.endsWith(".pdf"))).toBe(true);
    }
    const examples = fs.readFileSync(path.join(runDir, "follow-ups", "patch", "examples.jsonl"), "utf8");
    expect(examples.trim().split("\n")).toHaveLength(SEQUENCES.length);
    expect(results("patch").forwardPasses[0]).toMatchObject({
      persona: "planted",
      full: 3,
      prefix: 3,
      oneTokenSteps: 15,
    });
    // a second run refuses to overwrite without --force
    expect((await cli("patch", "--run-dir", runDir)).code).toBe(2);
    expect((await cli("ablate-mlp", "--run-dir", runDir, "--force", "--mode", "mean")).code).toBe(0);
    expect(results("ablate-mlp").mode).toBe("mean");
  });

  it("--help, a bad run folder and a bad flag value", async () => {
    const help = await cli("patch", "--help");
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/--positions/);
    const missing = await cli("logit-lens", "--run-dir", path.join(dir, "nowhere"));
    expect(missing.code).toBe(2);
    expect(missing.lines.join("\n")).toMatch(/not an attention-marker run folder: no config\.json/);
    expect((await cli("ablate-mlp", "--run-dir", runDir, "--mode", "half")).code).toBe(2);
  });
});
